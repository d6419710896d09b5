// Validation of a translation model during training: label-smoothed loss, NLL and perplexity
// over the validation split (token-weighted, fairseq's `valid_loss`/`valid_ppl`, here in nats:
// ppl = exp(nll)), and corpus BLEU (sacreBLEU 13a, src/metrics) of a greedy (or beam) decode
// through the model-agnostic generator (src/mt/decoding), hypotheses detokenized by SentencePiece.
import * as tf from '@tensorflow/tfjs';
import { corpusBleu } from '../../metrics/index.js';
import type { TokenBatcher } from '../data/batching.js';
import type { SentencePiece } from '../data/spm.js';
import { SequenceGenerator } from '../decoding/generator.js';
import type { Seq2Seq } from '../model/seq2seq.js';
import { batchLoss } from './task.js';

export interface LossReport {
  loss: number;
  nll: number;
  ppl: number;
  tokens: number;
}

/** Token-weighted mean loss (label-smoothed with `epsilon`) and NLL over every batch of `batcher` (epoch 0). */
export async function validationLoss(model: Seq2Seq, batcher: TokenBatcher, epsilon: number): Promise<LossReport> {
  let loss = 0;
  let nll = 0;
  let tokens = 0;
  for (const b of batcher.epoch(0)) {
    const [l, n] = tf.tidy(() => [batchLoss(model, b, epsilon), epsilon === 0 ? tf.scalar(0) : batchLoss(model, b, 0)]);
    const lv = (await l!.data())[0]!;
    const nv = epsilon === 0 ? lv : (await n!.data())[0]!;
    tf.dispose([l!, n!]);
    loss += lv * b.tgtTokens;
    nll += nv * b.tgtTokens;
    tokens += b.tgtTokens;
  }
  if (tokens === 0) throw new Error('validationLoss: the validation split has no target tokens');
  return { loss: loss / tokens, nll: nll / tokens, ppl: Math.exp(nll / tokens), tokens };
}

export interface DecodeOptions {
  beamSize: number;
  maxLenA: number;
  maxLenB: number;
  /** Sentences per generator call (sorted by length first). */
  decodeBatch: number;
}

/**
 * Translates token arrays (no EOS) and returns the decoded text of the best hypothesis of each,
 * in input order. Sentences longer than maxLen − 1 tokens are not translated: their output is
 * '' and they are counted in `skipped`.
 */
export async function translateTokens(
  model: Seq2Seq,
  spm: SentencePiece,
  sources: readonly Int32Array[],
  o: DecodeOptions,
): Promise<{ hyps: string[]; skipped: number }> {
  const gen = new SequenceGenerator(model, { beamSize: o.beamSize, maxLenA: o.maxLenA, maxLenB: o.maxLenB });
  const hyps = new Array<string>(sources.length).fill('');
  const N = model.config.maxLen;
  const order = sources.map((_, i) => i).filter((i) => sources[i]!.length <= N - 1);
  const skipped = sources.length - order.length;
  order.sort((a, b) => sources[a]!.length - sources[b]!.length);
  for (let k = 0; k < order.length; k += o.decodeBatch) {
    const idx = order.slice(k, k + o.decodeBatch);
    const out = await gen.generate(
      idx.map((i) => model.sourceIds(sources[i]!)),
      { yieldEveryStep: false },
    );
    out.results.forEach((r, j) => {
      const best = r.hypos[0];
      if (!best) return;
      const toks = best.tokens[best.tokens.length - 1] === model.eosId ? best.tokens.subarray(0, best.tokens.length - 1) : best.tokens;
      hyps[idx[j]!] = spm.decode(toks);
    });
  }
  return { hyps, skipped };
}

/** Corpus BLEU (sacreBLEU defaults) of the translations of `sources` against `refs`. */
export async function validationBleu(
  model: Seq2Seq,
  spm: SentencePiece,
  sources: readonly Int32Array[],
  refs: readonly string[],
  o: DecodeOptions,
): Promise<{ bleu: number; skipped: number; hyps: string[]; signature: string }> {
  if (sources.length !== refs.length) throw new Error(`validationBleu: ${sources.length} sources but ${refs.length} references`);
  const { hyps, skipped } = await translateTokens(model, spm, sources, o);
  const s = corpusBleu(hyps, [refs]);
  return { bleu: s.score, skipped, hyps, signature: s.signature };
}
