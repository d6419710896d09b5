// Learning-rate schedules as pure functions of the update number, so resuming needs only the
// step counter. Follows timm's CosineLRScheduler (linear warmup from warmupInit, cosine to minLr)
// and fairseq's inverse_sqrt (linear warmup, then lr · sqrt(warmup / step)).

export type ScheduleName = 'cosine' | 'inverse-sqrt' | 'constant';

export interface ScheduleConfig {
  /** Which schedule. Default 'cosine'. */
  name: ScheduleName;
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Linear warmup length in updates. Default 0. */
  warmupSteps: number;
  /** Learning rate before the first warmup step. Default 0. */
  warmupInit: number;
  /** Total updates (cosine only). */
  totalSteps: number;
  /** Final learning rate of the cosine. Default 0. */
  minLr: number;
}

export const DEFAULT_SCHEDULE: ScheduleConfig = {
  name: 'cosine',
  lr: 1e-3,
  warmupSteps: 0,
  warmupInit: 0,
  totalSteps: 1,
  minLr: 0,
};

/** Learning rate for update `step` (0-based: the first update uses step 0). */
export function learningRate(cfg: ScheduleConfig, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`learningRate: step must be a non-negative integer, got ${step}`);
  const { lr, warmupSteps, warmupInit } = cfg;
  if (step < warmupSteps) return warmupInit + ((lr - warmupInit) * (step + 1)) / warmupSteps;
  switch (cfg.name) {
    case 'constant':
      return lr;
    case 'inverse-sqrt':
      return warmupSteps > 0 ? lr * Math.sqrt(warmupSteps / (step + 1)) : lr / Math.sqrt(step + 1);
    case 'cosine': {
      const span = Math.max(1, cfg.totalSteps - warmupSteps);
      const t = Math.min(1, (step - warmupSteps) / span);
      return cfg.minLr + 0.5 * (lr - cfg.minLr) * (1 + Math.cos(Math.PI * t));
    }
  }
}
