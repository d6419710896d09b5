// Classifier checkpoints: safetensors (F32) under timm's names and shapes, with the model config
// in `__metadata__.config` (src/io/checkpoint-tensors.ts), so `loadClassifier(path)` needs
// nothing else. Files written by the training loop (which also hold `__optimizer__.*` slots) load
// the same way. Foreign files load too:
//   - timm state dicts (no config metadata): the architecture is read from the tensor shapes;
//   - the official deit/ResMLP release names, through ONE rename table, DEIT_TO_TIMM, which is
//     timm's `checkpoint_filter_fn` for ResMLP (mlp_mixer.py): patch_embed. → stem.,
//     attn. → linear_tokens., mlp. → mlp_channels., gamma_ → ls, and 1-D alpha/beta → (1, 1, d).
// Every mismatch is an error naming the key with the expected and found shapes.
import * as tf from '@tensorflow/tfjs';
import { saveTensors } from '../io/checkpoint-tensors.js';
import { checkShapes } from '../io/checkpoint-tensors.js';
import { readSafetensors, type StoredTensor } from '../io/safetensors.js';
import { type ResMlpConfig, ResMlp, resolveResMlpConfig } from './model.js';

/** Key rewrites from the official deit ResMLP checkpoints to timm names (applied in order, as substring replaces). */
export const DEIT_TO_TIMM: readonly (readonly [string, string])[] = [
  ['patch_embed.', 'stem.'],
  ['attn.', 'linear_tokens.'],
  ['mlp.', 'mlp_channels.'],
  ['gamma_', 'ls'],
];

/** Prefix of optimizer slots in training checkpoints (src/train/checkpoint.ts); skipped here. */
const OPTIMIZER_PREFIX = '__optimizer__.';

/** Whether a state dict uses the deit names (timm's test: `patch_embed.proj.weight` present). */
export function isDeitStateDict(names: Iterable<string>): boolean {
  for (const n of names) if (n === 'patch_embed.proj.weight') return true;
  return false;
}

/**
 * timm's checkpoint_filter_fn: deit names → timm names, 1-D Affine alpha/beta → (1, 1, d).
 * Other state dicts are returned unchanged. Generic over the value (shape + data or tensors).
 */
export function deitToTimm<T extends { shape: number[] }>(state: Map<string, T>): Map<string, T> {
  if (!isDeitStateDict(state.keys())) return state;
  const out = new Map<string, T>();
  for (const [key, v] of state) {
    let k = key;
    for (const [from, to] of DEIT_TO_TIMM) k = k.split(from).join(to);
    let value = v;
    if ((k.endsWith('.alpha') || k.endsWith('.beta')) && v.shape.length === 1) value = { ...v, shape: [1, 1, v.shape[0]!] };
    out.set(k, value);
  }
  return out;
}

/** The inverse of deitToTimm (timm names → deit names, (1, 1, d) alpha/beta → (d)), for tests and export. */
export function timmToDeit<T extends { shape: number[] }>(state: Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [key, v] of state) {
    // the table reversed; 'ls' only as the LayerScale name (so 'mlp_channels' keeps its 'ls')
    const k = key
      .split('stem.')
      .join('patch_embed.')
      .split('linear_tokens.')
      .join('attn.')
      .split('mlp_channels.')
      .join('mlp.')
      .replace(/\.ls([12])$/, '.gamma_$1');
    let value = v;
    if ((k.endsWith('.alpha') || k.endsWith('.beta')) && v.shape.length === 3) value = { ...v, shape: [v.shape[2]!] };
    out.set(k, value);
  }
  return out;
}

/** The timm-style config keys of the parity fixture and of timm's create_model kwargs → ResMlpConfig. */
export function fromTimmConfig(c: Record<string, unknown>): Partial<ResMlpConfig> {
  const map: Record<string, keyof ResMlpConfig> = {
    img_size: 'imgSize',
    in_chans: 'inChans',
    patch_size: 'patchSize',
    embed_dim: 'embedDim',
    depth: 'depth',
    num_blocks: 'depth',
    mlp_ratio: 'mlpRatio',
    num_classes: 'numClasses',
    init_values: 'layerScale',
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === 'naming') continue;
    const to = map[k];
    if (!to) throw new Error(`fromTimmConfig: unknown key '${k}' (known: ${Object.keys(map).join(', ')}, naming)`);
    out[to] = v;
  }
  return out as Partial<ResMlpConfig>;
}

/**
 * The architecture of a timm-named ResMLP state dict, read from its shapes: stem (d, C, p, p),
 * linear_tokens (N, N) → imgSize = √N·p, fc1 (h, d) → mlpRatio, head (classes, d), block count.
 */
export function inferConfig(state: Map<string, { shape: number[] }>, where: string): Partial<ResMlpConfig> {
  const need = (k: string): number[] => {
    const t = state.get(k);
    if (!t)
      throw new Error(
        `${where}: cannot infer the model config: key '${k}' is missing (and the file has no config metadata; pass a config)`,
      );
    return t.shape;
  };
  const [d, C, p] = need('stem.proj.weight') as [number, number, number, number];
  const [N] = need('blocks.0.linear_tokens.weight') as [number, number];
  const [h] = need('blocks.0.mlp_channels.fc1.weight') as [number, number];
  const [numClasses] = need('head.weight') as [number, number];
  let depth = 0;
  while (state.has(`blocks.${depth}.linear_tokens.weight`)) depth++;
  const side = Math.round(Math.sqrt(N));
  if (side * side !== N) throw new Error(`${where}: linear_tokens is ${N}×${N}, not a square number of patches`);
  return { embedDim: d, inChans: C, patchSize: p, imgSize: side * p, depth, mlpRatio: h / d, numClasses };
}

/**
 * What a checkpoint knows about the data it was trained on (stored beside the model config under
 * the config key `data`): class names and the input normalisation, used by eval and predict.
 */
export interface ClassifierData {
  dataset?: string;
  classes?: string[];
  mean?: number[];
  std?: number[];
}

/** The config stored in checkpoints: the model config plus, optionally, `data`. */
export type StoredClassifierConfig = ResMlpConfig & { data?: ClassifierData };

/** Saves a classifier's weights with its config (atomic). */
export async function saveClassifier(path: string, model: ResMlp, data?: ClassifierData): Promise<void> {
  await saveTensors(path, model.stateDict(), { config: data ? { ...model.config, data } : model.config });
}

/**
 * Loads a classifier from a safetensors file: our checkpoints (config in the metadata), timm state
 * dicts, or deit-named ones. `config` overrides/supplies the architecture (e.g. for a foreign file:
 * otherwise it is inferred from the shapes). Returns a model in eval mode; `predict(images)`
 * takes float32 NHWC images and returns logits.
 */
export function loadClassifier(path: string, config?: Partial<ResMlpConfig>): ResMlp {
  return loadClassifierWithData(path, config).model;
}

/** loadClassifier, also returning the stored data description (empty for foreign files). */
export function loadClassifierWithData(path: string, config?: Partial<ResMlpConfig>): { model: ResMlp; data: ClassifierData } {
  const { tensors: raw, metadata } = readSafetensors(path);
  let stored: Partial<ResMlpConfig> | undefined;
  let data: ClassifierData = {};
  if (metadata.config !== undefined) {
    try {
      const { data: d, ...rest } = JSON.parse(metadata.config) as Partial<StoredClassifierConfig>;
      stored = rest;
      data = d ?? {};
    } catch (e) {
      throw new Error(`${path}: __metadata__.config is not valid JSON (${(e as Error).message})`);
    }
  }
  const weights = new Map<string, StoredTensor>([...raw].filter(([k]) => !k.startsWith(OPTIMIZER_PREFIX)));
  const state = deitToTimm(weights);
  let cfg: ResMlpConfig;
  try {
    cfg = resolveResMlpConfig({ ...(stored ?? (config ? {} : inferConfig(state, path))), ...(config ?? {}) });
  } catch (e) {
    throw new Error(`${path}: bad model config: ${(e as Error).message}`);
  }
  const model = new ResMlp(cfg);
  try {
    const params = model.stateDict();
    checkShapes(state, params, { where: path });
    for (const [name, v] of params) {
      const t = state.get(name)!;
      if (!(t.data instanceof Float32Array)) throw new Error(`${path}: tensor '${name}' has dtype ${t.dtype}, expected a float type`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model: model.eval(), data };
}
