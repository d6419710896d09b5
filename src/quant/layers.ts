// Which layers of a model decode in int8: every Linear (the channel MLP's fc1/fc2, the attention
// projections q/k/v/out) and the embedding, whose matrix is also the tied output projection. Not
// quantised: the cross-token mixing A (a decoding step multiplies a 1×t row of it by each row's
// t×d cache, too small a product for int8 to pay; see docs/precision.md), the attention products
// themselves (activations × activations), norms, LayerScale and biases (all fp32).
import { Embedding } from '../core/embedding.js';
import { Linear } from '../core/linear.js';
import type { Module } from '../core/module.js';

export interface Int8Layer {
  /** The weight's parameter name, e.g. `decoder.layers.0.mlp_channels.fc1.weight`. */
  weightName: string;
  module: Linear | Embedding;
  /** Output channels (Linear out, vocabulary size), each with its own scale. */
  rows: number;
  /** Input channels. */
  cols: number;
}

/** The int8 layers of `model`, in namedModules order. */
export function int8Layers(model: Module): Int8Layer[] {
  const out: Int8Layer[] = [];
  for (const [name, m] of model.namedModules()) {
    const weightName = name === '' ? 'weight' : `${name}.weight`;
    if (m instanceof Linear) out.push({ weightName, module: m, rows: m.config.outFeatures, cols: m.config.inFeatures });
    else if (m instanceof Embedding) out.push({ weightName, module: m, rows: m.config.numEmbeddings, cols: m.config.dim });
  }
  return out;
}
