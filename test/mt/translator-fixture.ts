// Test fixture of the translator and the mt CLIs: a tiny SentencePiece model trained with
// spm_train on the synthetic En/De corpus of test/fixtures/synthetic (400 + 400 caption-like
// lines of our own, a few seconds) and a tiny random Seq2Seq saved as a real `resmlp mt train`
// checkpoint (spm.model/spm.vocab beside it, sha256 in the metadata), built once per process in
// a temp folder.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { SentencePiece, DEFAULT_SPM_TRAIN, trainSentencePiece } from '../../src/mt/data/spm.js';
import { MT_CHECKPOINT_KIND, type MtCheckpointConfig, sha256Of } from '../../src/mt/model/load.js';
import { Seq2Seq, type Seq2SeqConfig } from '../../src/mt/model/index.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { fixturePath } from '../fixtures/paths.js';
import { useTestBackend } from '../helpers/backend.js';

export interface Fixture {
  dir: string;
  spmModel: string;
  checkpoint: string;
  modelConfig: Seq2SeqConfig;
  /** The 60 English test lines of test/fixtures/synthetic/test.en (its README says how they are laid out). */
  lines: string[];
  cleanup(): void;
}

let fixture: Promise<Fixture> | null = null;

/**
 * Tiny model shape: maxLen 64, d 16 (random weights; decoding runs to the max length). LayerScale
 * 1 rather than 0.5, so that the random model's outputs depend on its input: the order tests
 * need different lines to give different translations (at 0.5, ten synthetic lines gave three).
 */
export const TINY: Omit<Seq2SeqConfig, 'vocabSize'> = {
  arch: 'resmlp',
  padId: 0,
  unkId: 1,
  bosId: 2,
  eosId: 3,
  maxLen: 64,
  dim: 16,
  mlpHidden: 32,
  encoderLayers: 1,
  decoderLayers: 1,
  heads: 2,
  norm: 'affine',
  layerScale: 1,
  dropout: 0,
  attentionDropout: 0,
  scaleEmbedding: true,
  seed: 5,
};

async function build(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'resmlp-translator-'));
  const read = (name: string) => readFileSync(fixturePath('synthetic', name), 'utf8').split('\n').slice(0, -1);
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, [...read('train.en'), ...read('train.de')].join('\n') + '\n');
  const trained = trainSentencePiece([corpus], join(dir, 'tiny'), { ...DEFAULT_SPM_TRAIN, vocabSize: 500, threads: 1 });
  const run = join(dir, 'run');
  mkdirSync(run);
  copyFileSync(trained.model, join(run, 'spm.model'));
  copyFileSync(trained.vocab, join(run, 'spm.vocab'));
  const spm = await SentencePiece.load(join(run, 'spm.model'));
  const modelConfig: Seq2SeqConfig = { ...TINY, vocabSize: spm.vocabSize };
  const model = new Seq2Seq(modelConfig);
  const config: MtCheckpointConfig = {
    kind: MT_CHECKPOINT_KIND,
    model: modelConfig,
    spm: { model: 'spm.model', vocab: 'spm.vocab', sha256: sha256Of(join(run, 'spm.model')) },
    langs: { src: 'en', tgt: 'de' },
    generation: { beamSize: 2, maxLenA: 0, maxLenB: 6 },
  };
  const checkpoint = join(run, 'checkpoint_best.safetensors');
  try {
    await saveCheckpoint(checkpoint, model.namedParameters(), config);
  } finally {
    model.dispose();
  }
  return {
    dir,
    spmModel: join(run, 'spm.model'),
    checkpoint,
    modelConfig,
    lines: read('test.en'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The process-wide fixture (built on first use). */
export function translatorFixture(): Promise<Fixture> {
  fixture ??= build();
  return fixture;
}

/** What a test file of the translator gets from useTranslatorFixture, set once its `before` ran. */
export interface TranslatorTest {
  fx: Fixture;
  /** The test backend (useTestBackend). */
  backend: string;
  /** A temp folder of this file, removed after it. */
  tmp: string;
}

/**
 * Registers the `before` and `after` of a test file that uses the fixture: picks the test backend,
 * builds (or reuses) the fixture, makes a temp folder `<prefix>XXXXXX` (removed at the end), then
 * runs the file's own `setUp`, if any (in the same hook: a second top-level `before` would not wait
 * for this one).
 */
export function useTranslatorFixture(prefix: string, setUp?: (t: TranslatorTest) => void): TranslatorTest {
  const t = {} as TranslatorTest;
  before(async () => {
    t.backend = await useTestBackend();
    t.fx = await translatorFixture();
    t.tmp = mkdtempSync(join(tmpdir(), prefix));
    setUp?.(t);
  });
  after(() => {
    if (t.tmp) rmSync(t.tmp, { recursive: true, force: true });
  });
  return t;
}
