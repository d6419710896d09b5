// An int8 linear layer for decoding: the LinearKernel (src/core/linear.ts) that replaces a Linear's
// (or the tied output projection's) fp32 product by the native backend's ResmlpInt8Linear kernel —
// weights packed once from their int8 form (quantize.ts), activations quantised per row on each
// call, the activation (GELU) or the log-softmax that follows applied in the same pass.
import type * as tf from '@tensorflow/tfjs';
import { int8Linear, type LinearEpilogue, packInt8Weight, type PackedInt8Weight } from '../backend/native/kernels-int8.js';
import type { LinearAct, LinearKernel } from '../core/linear.js';
import type { Int8Rows } from './quantize.js';

const EPILOGUE: Record<LinearAct, LinearEpilogue> = { none: 'None', gelu: 'Gelu', logSoftmax: 'LogSoftmax' };

export class Int8LinearKernel implements LinearKernel {
  private readonly weight: PackedInt8Weight;

  /** `bias` (out) stays owned by the layer it belongs to. */
  constructor(
    int8: Int8Rows,
    private readonly bias: tf.Tensor | null,
  ) {
    this.weight = packInt8Weight(int8.q, int8.scales, int8.rows, int8.cols);
  }

  forward(x: tf.Tensor, act: LinearAct): tf.Tensor {
    return int8Linear(x, this.weight, this.bias, EPILOGUE[act]);
  }

  dispose(): void {
    this.weight.release();
  }
}
