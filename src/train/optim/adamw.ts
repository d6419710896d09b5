// AdamW (Loshchilov & Hutter, decoupled weight decay), as torch.optim.AdamW; with weightDecay 0 it
// is Adam. Parameters whose names match `noDecay` (biases, norms, LayerScale, as timm's
// param_groups_weight_decay: every 1-D parameter) are not decayed.
import * as tf from '@tensorflow/tfjs';
import { adamStep } from '../../backend/fused.js';
import { Optimizer } from './optimizer.js';

/** Adam's hyperparameters, as AdamW and Lamb read them (defaults: DEFAULT_ADAMW, DEFAULT_LAMB). */
export interface AdamConfig {
  /** First-moment decay. */ beta1: number;
  /** Second-moment decay. */ beta2: number;
  /** Added to the root of the second moment. */ eps: number;
  /** Decoupled weight decay (on the parameters `decays` accepts). */ weightDecay: number;
}

/** Defaults: beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.05 (timm's default for ResMLP/DeiT training). */
export type AdamWConfig = AdamConfig;

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };

/** timm's rule: no weight decay on parameters of rank ≤ 1 and on Affine/LayerScale vectors. */
export function decays(name: string, p: tf.Variable): boolean {
  if (p.shape.filter((d) => d > 1).length <= 1) return false;
  return !/(\.|^)(alpha|beta|ls1|ls2|bias|gamma_1|gamma_2)$/.test(name);
}

/**
 * What AdamW and Lamb share: Adam's config and the two moments of each parameter (slots exp_avg and
 * exp_avg_sq, torch's names), with the step count t for their bias correction.
 */
export abstract class AdamMoments extends Optimizer {
  constructor(
    params: Map<string, tf.Variable>,
    readonly cfg: AdamConfig,
  ) {
    super(params);
  }

  /** Parameter `name`'s moments m and v, the step t, and the weight decay that applies to it. */
  protected moments(name: string, p: tf.Variable): { m: tf.Variable; v: tf.Variable; t: number; wd: number } {
    const m = this.slot('exp_avg', name, p);
    const v = this.slot('exp_avg_sq', name, p);
    return { m, v, t: this.stepCount, wd: decays(name, p) ? this.cfg.weightDecay : 0 };
  }
}

export class AdamW extends AdamMoments {
  constructor(params: Map<string, tf.Variable>, cfg: AdamWConfig = DEFAULT_ADAMW) {
    super(params, cfg);
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    const { beta1, beta2, eps } = this.cfg;
    const { m, v, t, wd } = this.moments(name, p);
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    const [p2, m2, v2] = adamStep(p, g, m, v, { beta1, beta2, eps, bc1, bc2, lr, wd }); // one kernel on backends that fuse it
    m.assign(m2);
    v.assign(v2);
    p.assign(p2);
    tf.dispose([p2, m2, v2]);
  }
}
