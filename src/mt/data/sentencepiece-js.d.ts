// Types for @agnai/sentencepiece-js 1.1.1 (it ships none): the calls spm.ts uses.
declare module '@agnai/sentencepiece-js' {
  export class SentencePieceProcessor {
    load(modelPath: string): Promise<void>;
    encodeIds(text: string): number[];
    encodePieces(text: string): string[];
    decodeIds(ids: number[]): string;
  }
}
