// AdamW (Loshchilov & Hutter, decoupled weight decay), as torch.optim.AdamW; with weightDecay 0 it
// is Adam. Parameters whose names match `noDecay` (biases, norms, LayerScale, as timm's
// param_groups_weight_decay: every 1-D parameter) are not decayed.
import * as tf from '@tensorflow/tfjs';
import { adamStep } from '../../backend/fused.js';
import { Optimizer } from './optimizer.js';

export interface AdamWConfig {
  /** Default 0.9. */ beta1: number;
  /** Default 0.999. */ beta2: number;
  /** Default 1e-8. */ eps: number;
  /** Decoupled weight decay. Default 0.05 (timm's default for ResMLP/DeiT training). */ weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };

/** timm's rule: no weight decay on parameters of rank ≤ 1 and on Affine/LayerScale vectors. */
export function decays(name: string, p: tf.Variable): boolean {
  if (p.shape.filter((d) => d > 1).length <= 1) return false;
  return !/(\.|^)(alpha|beta|ls1|ls2|bias|gamma_1|gamma_2)$/.test(name);
}

export class AdamW extends Optimizer {
  constructor(
    params: Map<string, tf.Variable>,
    readonly cfg: AdamWConfig = DEFAULT_ADAMW,
  ) {
    super(params);
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const m = this.slot('exp_avg', name, p);
    const v = this.slot('exp_avg_sq', name, p);
    const t = this.stepCount;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    const wd = decays(name, p) ? weightDecay : 0;
    const [p2, m2, v2] = adamStep(p, g, m, v, { beta1, beta2, eps, bc1, bc2, lr, wd }); // one kernel on backends that fuse it
    m.assign(m2);
    v.assign(v2);
    p.assign(p2);
    tf.dispose([p2, m2, v2]);
  }
}
