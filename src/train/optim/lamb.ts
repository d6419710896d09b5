// LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning"), the optimizer of the
// ResMLP paper's supervised training (§3, Appendix: Lamb, lr 5e-3, wd 0.2). As timm's Lamb:
// Adam moments with bias correction, update u = m̂/(√v̂+ε) + wd·p, trust ratio ‖p‖/‖u‖ (1 when
// either norm is 0), p ← p − lr·ratio·u. Parameters exempt from decay as in AdamW.
import * as tf from '@tensorflow/tfjs';
import { AdamMoments, type AdamConfig } from './adamw.js';

/** Defaults: beta1 0.9, beta2 0.999, eps 1e-6 (timm), weightDecay 0.01. */
export type LambConfig = AdamConfig;

export const DEFAULT_LAMB: LambConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 };

export class Lamb extends AdamMoments {
  constructor(params: Map<string, tf.Variable>, cfg: LambConfig = DEFAULT_LAMB) {
    super(params, cfg);
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    const { beta1, beta2, eps } = this.cfg;
    const { m, v, t, wd } = this.moments(name, p);
    tf.tidy(() => {
      const m2 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
      const v2 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
      m.assign(m2);
      v.assign(v2);
      let u = tf.div(tf.div(m2, 1 - beta1 ** t), tf.add(tf.sqrt(tf.div(v2, 1 - beta2 ** t)), eps));
      if (wd > 0) u = tf.add(u, tf.mul(p, wd));
      const pn = tf.norm(p);
      const un = tf.norm(u);
      // trust ratio = ‖p‖/‖u‖ where both are > 0, else 1
      const ratio = tf.where(tf.logicalAnd(tf.greater(pn, 0), tf.greater(un, 0)), tf.div(pn, un), tf.onesLike(pn));
      p.assign(tf.sub(p, tf.mul(u, tf.mul(ratio, lr))));
    });
  }
}
