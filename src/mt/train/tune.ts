// Length-penalty tuning on a validation set (`resmlp mt tune`): decode the validation sources once
// per candidate lenpen (fairseq's --lenpen: a finished hypothesis scores Σ log p / len^lenpen),
// score each decode with corpus BLEU (sacreBLEU 13a, src/metrics), pick the argmax (the first of
// equal scores, in the order given), and store it — with the beam size it was tuned for — as the
// checkpoint's generation defaults, which Translator.load reads (so `mt eval`, `mt translate` and
// the server use it). The decoder and the scorer are parameters, so tests pass fakes.
import { corpusBleu } from '../../metrics/index.js';
import { updateCheckpointConfig } from '../../train/checkpoint.js';
import { UserError } from '../../util/errors.js';
import { copySentencePieceBeside, readMtCheckpointConfig, type MtCheckpointConfig } from '../model/load.js';

/** One candidate's result. */
export interface LenpenTrial {
  lenpen: number;
  /** Corpus score (BLEU). */
  bleu: number;
  /** Brevity penalty of that score (1 = hypotheses not shorter than the references). */
  bp: number;
  /** Hypothesis length ÷ reference length. */
  ratio: number;
}

export interface LenpenTuning {
  trials: LenpenTrial[];
  best: LenpenTrial;
  /** The scorer's signature (sacreBLEU's, for the default scorer). */
  signature: string;
}

/** Hypotheses (one a source, in order) of the validation set decoded with `lenpen`. */
export type LenpenDecoder = (lenpen: number) => Promise<readonly string[]>;

/** Corpus score of hypotheses against one reference each. */
export type CorpusScorer = (
  hyps: readonly string[],
  refs: readonly string[],
) => { score: number; bp: number; ratio: number; signature: string };

/** sacreBLEU's corpus BLEU with its defaults (13a, exp smoothing). */
export const sacreBleuScorer: CorpusScorer = (hyps, refs) => {
  const s = corpusBleu(hyps, [refs]);
  return { score: s.score, bp: s.bp, ratio: s.ratio, signature: s.signature };
};

/** "0.6,0.8,1" → [0.6, 0.8, 1]; each a finite number, none twice. */
export function parseLenpens(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map((p) => (p === '' ? NaN : Number(p)));
  const bad = parts.filter((_, i) => !Number.isFinite(values[i]));
  if (parts.length === 0 || bad.length > 0)
    throw new UserError(`--lenpen expects comma-separated numbers like 0.6,0.8,1,1.2, got '${text}'`, 'usage');
  if (new Set(values).size !== values.length) throw new UserError(`--lenpen lists a value twice: '${text}'`, 'usage');
  return values;
}

/**
 * Decodes once per value of `lenpens` and scores against `refs`; returns every trial and the best
 * (highest score; the first of equal ones). `onTrial` sees each trial as it finishes.
 */
export async function tuneLenpen(
  lenpens: readonly number[],
  decode: LenpenDecoder,
  refs: readonly string[],
  opts: { scorer?: CorpusScorer; onTrial?: (t: LenpenTrial) => void } = {},
): Promise<LenpenTuning> {
  if (lenpens.length === 0) throw new UserError('no length penalty to try', 'usage');
  const scorer = opts.scorer ?? sacreBleuScorer;
  const trials: LenpenTrial[] = [];
  let signature = '';
  for (const lenpen of lenpens) {
    const hyps = await decode(lenpen);
    if (hyps.length !== refs.length)
      throw new Error(`tuneLenpen: the decoder gave ${hyps.length} hypotheses for ${refs.length} references (lenpen ${lenpen})`);
    const s = scorer(hyps, refs);
    signature = s.signature;
    const t: LenpenTrial = { lenpen, bleu: s.score, bp: s.bp, ratio: s.ratio };
    trials.push(t);
    opts.onTrial?.(t);
  }
  const best = trials.reduce((b, t) => (t.bleu > b.bleu ? t : b));
  return { trials, best, signature };
}

/** What a checkpoint records about its tuned generation defaults (`tuning` in its config). */
export interface GenerationTuning {
  /** The validation files and how many sentences were decoded. */
  src: string;
  ref: string;
  sentences: number;
  beamSize: number;
  trials: LenpenTrial[];
  signature: string;
  date: string;
}

/**
 * Stores `lenpen` and `beamSize` as the generation defaults of `checkpoint` (and the tuning record),
 * in place by default: the file is replaced atomically (temp file + rename; tensors, optimizer
 * and trainer state unchanged). With `out`, a new checkpoint is written there instead (its
 * SentencePiece files copied beside it when it goes to another folder). Returns the new config.
 */
export function storeTunedGeneration(
  checkpoint: string,
  g: { lenpen: number; beamSize: number },
  tuning: GenerationTuning,
  out: string = checkpoint,
): MtCheckpointConfig {
  copySentencePieceBeside(checkpoint, out, readMtCheckpointConfig(checkpoint));
  return updateCheckpointConfig<MtCheckpointConfig>(
    checkpoint,
    (c) => ({ ...c, generation: { ...c.generation, beamSize: g.beamSize, lenpen: g.lenpen }, tuning }),
    out,
  );
}
