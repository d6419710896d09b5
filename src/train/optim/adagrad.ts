// Adagrad as torch.optim.Adagrad (what fairseq's `--optimizer adagrad` wraps), the optimizer of the
// ResMLP paper's translation experiments (§3.6: Adagrad, lr 0.2): state sum += g², p −= lr·g/(√sum+ε).
// weightDecay adds wd·p to the gradient (torch's coupled L2), default 0.
import * as tf from '@tensorflow/tfjs';
import { adagradStep } from '../../backend/fused.js';
import { Optimizer } from './optimizer.js';

export interface AdagradConfig {
  /** Default 1e-10 (torch). */ eps: number;
  /** Initial accumulator. Default 0 (torch). */ initialAccumulator: number;
  /** Coupled L2 weight decay. Default 0. */ weightDecay: number;
}

export const DEFAULT_ADAGRAD: AdagradConfig = { eps: 1e-10, initialAccumulator: 0, weightDecay: 0 };

export class Adagrad extends Optimizer {
  constructor(
    params: Map<string, tf.Variable>,
    readonly cfg: AdagradConfig = DEFAULT_ADAGRAD,
  ) {
    super(params);
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    const { eps, initialAccumulator, weightDecay } = this.cfg;
    const sum = this.slot('sum', name, p, initialAccumulator);
    const [p2, s2] = adagradStep(p, g, sum, lr, eps, weightDecay); // one kernel on backends that fuse it
    sum.assign(s2);
    p.assign(p2);
    tf.dispose([p2, s2]);
  }
}
