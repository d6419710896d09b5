// The tiny Seq2Seq the model tests build: V = 23, 2+2 layers of width 16, no dropout, layerScale 1
// so token mixing and attention visibly change the outputs. In eval mode.
import { Seq2Seq, type Seq2SeqArch, type Seq2SeqConfig } from '../../../src/mt/model/index.js';

/** Vocabulary size of the tiny models. */
export const V = 23;

/** A tiny `arch` model; `over` changes any of its settings. */
export function tinySeq2Seq(arch: Seq2SeqArch, over: Partial<Seq2SeqConfig> = {}): Seq2Seq {
  return new Seq2Seq({
    arch,
    vocabSize: V,
    maxLen: 12,
    dim: 16,
    mlpHidden: 32,
    encoderLayers: 2,
    decoderLayers: 2,
    heads: 2,
    dropout: 0,
    layerScale: 1,
    seed: 7,
    ...over,
  }).eval();
}
