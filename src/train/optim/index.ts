// Optimizers by name, with their configs: the one place the training loop builds them from.
import type * as tf from '@tensorflow/tfjs';
import { AdamW, DEFAULT_ADAMW, type AdamWConfig } from './adamw.js';
import { Lamb, DEFAULT_LAMB, type LambConfig } from './lamb.js';
import { Adagrad, DEFAULT_ADAGRAD, type AdagradConfig } from './adagrad.js';
import type { Optimizer } from './optimizer.js';

export { Optimizer, clipGradNorm, type OptimizerState } from './optimizer.js';
export { AdamW, Lamb, Adagrad, DEFAULT_ADAMW, DEFAULT_LAMB, DEFAULT_ADAGRAD };
export type { AdamWConfig, LambConfig, AdagradConfig };

export type OptimizerName = 'adamw' | 'adam' | 'lamb' | 'adagrad';
export const OPTIMIZERS: readonly OptimizerName[] = ['adamw', 'adam', 'lamb', 'adagrad'];

export interface OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export function createOptimizer(name: string, params: Map<string, tf.Variable>, o: OptimizerOptions = {}): Optimizer {
  const pick = <T extends object>(d: T): T => {
    const out = { ...d } as Record<string, number>;
    for (const [k, v] of Object.entries(o)) if (v !== undefined && k in d) out[k] = v as number;
    return out as T;
  };
  switch (name) {
    case 'adamw':
      return new AdamW(params, pick(DEFAULT_ADAMW));
    case 'adam':
      return new AdamW(params, { ...pick(DEFAULT_ADAMW), weightDecay: o.weightDecay ?? 0 });
    case 'lamb':
      return new Lamb(params, pick(DEFAULT_LAMB));
    case 'adagrad':
      return new Adagrad(params, pick(DEFAULT_ADAGRAD));
    default:
      throw new Error(`unknown optimizer '${name}' (expected one of ${OPTIMIZERS.join(', ')})`);
  }
}
