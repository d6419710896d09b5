// int8 decoding: the precision a translation model decodes in (fp32 or int8 linear layers on the
// native backend's oneDNN kernels), int8 checkpoints (`resmlp mt quantize`) and the weight scheme.
// Measurements and the design: docs/precision.md.
import { readMtCheckpointConfig } from '../mt/model/load.js';
import { isInt8Checkpoint } from './int8-checkpoint.js';
import type { Precision } from './precision.js';

export { applyPrecision, choosePrecision, precisionLine, type PrecisionChoice, type PrecisionReport } from './apply.js';
export { int8WeightsOf, isInt8Checkpoint, loadInt8Checkpoint, writeInt8Checkpoint, type QuantizeSummary } from './int8-checkpoint.js';
export { Int8LinearKernel } from './int8-linear.js';
export { int8Layers, type Int8Layer } from './layers.js';
export { parsePrecision, PRECISIONS, type Precision } from './precision.js';
export { dequantizeRows, quantizeRows, type Int8Rows } from './quantize.js';

/** The precision a checkpoint decodes in unless told otherwise: int8 for an int8 checkpoint, else fp32. */
export function checkpointPrecision(path: string): Precision {
  return isInt8Checkpoint(readMtCheckpointConfig(path)) ? 'int8' : 'fp32';
}
