// Named ResMLP classifiers. The timm variants (timm/models/mlp_mixer.py `resmlp_*`) with their
// exact hyperparameters and LayerScale inits (timm: resmlp_12 keeps ResBlock's default 1e-4, 24 →
// 1e-5, 36 and big_24 → 1e-6; the paper / official deit code uses 0.1 for depth 12), and small
// presets for 28×28×1 (Fashion-MNIST / MNIST) and 32×32×3 (CIFAR-10) inputs. Each variant only
// sets hyperparameters, as timm's registered functions do.
import { type ResMlpConfig, resolveResMlpConfig, ResMlp } from './model.js';

export const MODELS: Record<string, Partial<ResMlpConfig>> = {
  // timm / paper ImageNet models (224×224×3, 1000 classes)
  resmlp_12_224: { patchSize: 16, depth: 12, embedDim: 384, mlpRatio: 4, layerScale: 1e-4 },
  resmlp_24_224: { patchSize: 16, depth: 24, embedDim: 384, mlpRatio: 4, layerScale: 1e-5 },
  resmlp_36_224: { patchSize: 16, depth: 36, embedDim: 384, mlpRatio: 4, layerScale: 1e-6 },
  resmlp_big_24_224: { patchSize: 8, depth: 24, embedDim: 768, mlpRatio: 4, layerScale: 1e-6 },
  // small inputs: 28×28×1, patch 4 → 49 patches; 32×32×3, patch 4 → 64 patches
  resmlp_fmnist_tiny: { imgSize: 28, inChans: 1, patchSize: 4, embedDim: 64, depth: 2, numClasses: 10, layerScale: 0.1 },
  resmlp_fmnist_small: { imgSize: 28, inChans: 1, patchSize: 4, embedDim: 128, depth: 6, numClasses: 10, layerScale: 0.1 },
  resmlp_cifar_tiny: { imgSize: 32, inChans: 3, patchSize: 4, embedDim: 64, depth: 2, numClasses: 10, layerScale: 0.1 },
  resmlp_cifar_small: { imgSize: 32, inChans: 3, patchSize: 4, embedDim: 192, depth: 8, numClasses: 10, layerScale: 0.1 },
};

/** Names of the registered models. */
export function listModels(): string[] {
  return Object.keys(MODELS);
}

/** The full config of `name`, with `overrides` (e.g. numClasses, dropPath) applied. */
export function modelConfig(name: string, overrides: Partial<ResMlpConfig> = {}): ResMlpConfig {
  const base = MODELS[name];
  if (!base) throw new Error(`unknown model '${name}'; registered models: ${listModels().join(', ')}`);
  return resolveResMlpConfig({ ...base, ...overrides });
}

/** Builds a registered model (freshly initialised from `seed`). */
export function createModel(name: string, overrides: Partial<ResMlpConfig> = {}, seed = 0): ResMlp {
  return new ResMlp(modelConfig(name, overrides), seed);
}
