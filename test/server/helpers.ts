// Test helpers for the server: a character tokenizer, two deterministic fake seq2seq models driven
// by the real Translator + SequenceGenerator — the decoding tests' HashModel (log-probs are a
// function of (source, prefix) only, so batching cannot change results; optional per-step delay)
// and a LexiconModel that really translates, word by word from a small dictionary, so that
// answers can be checked as text — and an in-process app listening on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, type ServerApp } from '../../src/server/app.js';
import type { ServerSettings } from '../../src/server/config.js';
import { DecodingDefaultsSchema } from '../../src/server/config.js';
import type { DecoderModel } from '../../src/mt/decoding/types.js';
import { type TextCodec, Translator } from '../../src/mt/translator.js';
import { TranslatorEngine, UNBOUNDED_TRANSLATOR_TOKENS } from '../../src/server/engine.js';
import { ModelRegistry } from '../../src/server/models.js';
import { ContinuousHashModel } from '../mt/decoding/fake-models.js';

const ALPHABET = ' abcdefghijklmnopqrstuvwxyzäöüéè.,!?\'-0123456789;:()"&àâçêîôûœß';
/** Ids 0..3 are the fake model's specials (bos 0, pad 1, eos 2, unk 3). */
const FIRST = 4;

/** One id per character; unknown characters → unk (3). */
export class CharTokenizer implements TextCodec {
  readonly vocabSize = FIRST + ALPHABET.length;
  encode(text: string): number[] {
    return [...text.toLowerCase()].map((c) => {
      const i = ALPHABET.indexOf(c);
      return i < 0 ? 3 : FIRST + i;
    });
  }
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (const id of Array.from(ids)) if (id >= FIRST) s += ALPHABET[id - FIRST];
    return s;
  }
}

/**
 * HashModel with an optional delay per step (a slow model), a fault switch, a step counter tests
 * can wait on, and an endless mode whose sentences only max_length or an abort can end.
 */
export class FakeSeqModel extends ContinuousHashModel {
  stepDelayMs = 0;
  /** Decoder steps taken so far (tests wait on it to know a request is being decoded). */
  steps = 0;
  /** Throw from step() with this message (an internal error). */
  failWith: string | null = null;
  /**
   * EOS almost never (log-prob −1e4, finite so that the EOS forced at max_length still scores):
   * a sentence runs to its max_length unless it is aborted, so a test can tell an abort from a
   * sentence that ended by itself.
   */
  endless = false;
  private stepWaiters: { n: number; resolve: () => void }[] = [];
  constructor(vocabSize: number, maxPositions = 48) {
    super(vocabSize, maxPositions);
  }
  /** Resolves once `steps` ≥ n (at once if it already is). */
  whenSteps(n: number): Promise<void> {
    if (this.steps >= n) return Promise.resolve();
    return new Promise((resolve) => this.stepWaiters.push({ n, resolve }));
  }
  /** Counts a step and wakes the tests waiting for it. */
  protected countStep(): void {
    this.steps++;
    this.stepWaiters = this.stepWaiters.filter((w) => {
      if (this.steps < w.n) return true;
      w.resolve();
      return false;
    });
  }
  /** The model's log-probs for every row (the hash model's; LexiconModel has its own). */
  protected logProbs(prev: Int32Array, st: any, positions: Int32Array): Float32Array {
    return super.stepRows(prev, st, positions);
  }
  /** Every step goes through here: the batch scheduler's step() and the step scheduler's stepRows(). */
  override stepRows(prev: Int32Array, st: any, positions: Int32Array): Float32Array {
    if (this.failWith !== null) throw new Error(this.failWith);
    this.countStep();
    this.rowsSeen.push(prev.length);
    const out = this.logProbs(prev, st, positions);
    if (this.endless) for (let r = 0; r < out.length / this.vocabSize; r++) out[r * this.vocabSize + this.eosId] = -1e4;
    return out;
  }
}

/**
 * A slow step: HashModel's result after `stepDelayMs`, and while the model is held (hold()) not
 * before it is released (StepResult may be a promise).
 */
export class SlowFakeSeqModel extends FakeSeqModel {
  private gate: Promise<void> | null = null;
  /**
   * Holds every step from now on (each is counted, then waits) until the returned function is
   * called: a request stays in decoding for exactly as long as a test needs.
   */
  hold(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = null;
      release();
    };
  }
  // @ts-expect-error -- widen the return type to a promise (the generators await StepResult)
  override stepRows(prev: Int32Array, st: any, positions: Int32Array): Float32Array | Promise<Float32Array> {
    const out = super.stepRows(prev, st, positions);
    const gate = this.gate;
    if (this.stepDelayMs <= 0 && gate === null) return out;
    return (async () => {
      if (this.stepDelayMs > 0) await new Promise((r) => setTimeout(r, this.stepDelayMs));
      if (gate !== null) await gate;
      return out;
    })();
  }
}

/**
 * Resolves once `cond` holds, checking every few ms: for states the server reports but does not
 * announce (queue lengths, open sockets). No tight deadline, so a loaded machine waits longer
 * instead of failing; after 60 s it gives up naming `what`, so a broken server fails the test
 * rather than hanging it.
 */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > 60_000) throw new Error(`waited 60 s for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Word-by-word dictionaries of the LexiconModel (lower case; unknown words are copied). */
export const LEXICON: Record<string, Record<string, string>> = {
  'en-de': {
    a: 'ein',
    an: 'ein',
    the: 'der',
    dog: 'hund',
    dogs: 'hunde',
    cat: 'katze',
    cats: 'katzen',
    man: 'mann',
    woman: 'frau',
    children: 'kinder',
    group: 'gruppe',
    of: 'von',
    runs: 'läuft',
    run: 'laufen',
    sleeps: 'schläft',
    sleep: 'schlafen',
    is: 'ist',
    are: 'sind',
    on: 'auf',
    in: 'in',
    beach: 'strand',
    snow: 'schnee',
    two: 'zwei',
    playing: 'spielen',
    plays: 'spielt',
    near: 'nahe',
    red: 'rote',
    fence: 'zaun',
    blue: 'blauen',
    shirt: 'hemd',
    standing: 'steht',
    ladder: 'leiter',
    and: 'und',
    cleaning: 'putzt',
    window: 'fenster',
    with: 'mit',
    ball: 'ball',
    house: 'haus',
    small: 'klein',
    big: 'gross',
    hello: 'hallo',
    world: 'welt',
    very: 'sehr',
    important: 'wichtig',
    text: 'text',
    this: 'dies',
    good: 'gut',
    night: 'nacht',
    park: 'park',
    street: 'strasse',
    green: 'grünen',
    grass: 'gras',
    at: 'an',
    sun: 'sonne',
    rose: 'ging auf',
    birds: 'vögel',
    sang: 'sangen',
    when: 'als',
    bird: 'vogel',
    sings: 'singt',
    tree: 'baum',
    read: 'lies',
    book: 'buch',
  },
  'en-fr': {
    a: 'un',
    the: 'le',
    dog: 'chien',
    cat: 'chat',
    runs: 'court',
    sleeps: 'dort',
    on: 'sur',
    beach: 'plage',
    hello: 'bonjour',
    world: 'monde',
    and: 'et',
  },
  'de-en': {
    ein: 'a',
    eine: 'a',
    der: 'the',
    die: 'the',
    hund: 'dog',
    katze: 'cat',
    läuft: 'runs',
    schläft: 'sleeps',
    am: 'on the',
    strand: 'beach',
    hallo: 'hello',
    welt: 'world',
  },
};

/** What the LexiconModel outputs for `source`: each word looked up, punctuation kept. */
export function lexiconTranslate(pair: string, source: string): string {
  const dict = LEXICON[pair] ?? {};
  return source
    .toLowerCase()
    .split(' ')
    .map((w) => {
      const m = /^([^\p{L}\p{N}]*)([\p{L}\p{N}'-]*)(.*)$/u.exec(w)!;
      return m[1]! + (dict[m[2]!] ?? m[2]!) + m[3]!;
    })
    .join(' ');
}

interface LexiconState {
  /** Target ids (then EOS) each row must produce. */
  want: Int32Array[];
  /** Position each row reads next. */
  pos: Int32Array;
}

/**
 * A fake model that translates: encode() reads the source characters, looks every word up in
 * LEXICON[pair] and keeps the target ids; step t puts probability 0.9 on the t-th target
 * character (EOS after the last; almost none on EOS elsewhere) and spreads the rest, so beam search
 * finds the dictionary translation first and n-best variants after it.
 */
export class LexiconModel extends SlowFakeSeqModel {
  constructor(
    readonly pair: string,
    private readonly codec: CharTokenizer,
    maxPositions = 48,
  ) {
    super(codec.vocabSize, maxPositions);
  }
  // @ts-expect-error -- a different encoder output than HashModel's
  override encode(src: readonly Int32Array[]): Int32Array[] {
    return src.map((s) => {
      const text = this.codec.decode(s.subarray(0, s.length - 1)); // drop EOS
      return Int32Array.from([...this.codec.encode(lexiconTranslate(this.pair, text)), EOS_ID]);
    });
  }
  // @ts-expect-error -- state of this model
  override initState(enc: Int32Array[]): LexiconState {
    this.liveStates++;
    return { want: enc.slice(), pos: new Int32Array(enc.length) };
  }
  protected override logProbs(_prev: Int32Array, st: LexiconState, positions: Int32Array): Float32Array {
    const V = this.vocabSize;
    const out = new Float32Array(st.want.length * V);
    const rest = Math.log(0.1 / (V - 3)); // bos and pad never
    st.want.forEach((w, r) => {
      out.fill(rest, r * V, (r + 1) * V);
      out[r * V] = -Infinity; // bos
      out[r * V + 1] = -Infinity; // pad
      out[r * V + EOS_ID] = -30; // EOS only where the translation ends (else the search finalises cut-off prefixes)
      const t = positions[r]!;
      out[r * V + (w[Math.min(t, w.length - 1)] ?? EOS_ID)] = Math.log(0.9);
      st.pos[r]!++;
    });
    return out;
  }
  override reorderState(st: LexiconState, order: Int32Array): LexiconState {
    return { want: Array.from(order, (o) => st.want[o]!), pos: Int32Array.from(order, (o) => st.pos[o]!) };
  }
  // @ts-expect-error -- state of this model
  override concatStates(a: LexiconState, b: LexiconState): LexiconState {
    this.liveStates--;
    const pos = new Int32Array(a.pos.length + b.pos.length);
    pos.set(a.pos);
    pos.set(b.pos, a.pos.length);
    return { want: [...a.want, ...b.want], pos };
  }
}
const EOS_ID = 2;
/** Positions of the lexicon models: sentences of up to 63 characters (one token per character). */
export const LEXICON_MAX_POSITIONS = 64;

/** The LexiconModel's answer for a whole text: every whitespace-separated word translated, the whitespace kept. */
export function lexiconText(pair: string, text: string): string {
  return text
    .split(/(\s+)/u)
    .map((w) => (/^\s*$/u.test(w) ? w : lexiconTranslate(pair, w)))
    .join('');
}

/** The production engine (Translator → generator) around a model and a codec. */
export function engineFor(model: DecoderModel<any, any>, codec: TextCodec): TranslatorEngine {
  return new TranslatorEngine(new Translator(model, codec, { maxTokens: UNBOUNDED_TRANSLATOR_TOKENS }));
}

export interface TestServer {
  url: string;
  wsUrl: string;
  server: Server;
  app: ServerApp;
  registry: ModelRegistry;
  models: Record<string, SlowFakeSeqModel>;
  close(): Promise<void>;
}

export const PAIRS = ['en-de', 'en-fr', 'de-en'] as const;

/**
 * The app around fake engines for en-de, en-fr, de-en, listening on 127.0.0.1:<random>: HashModels
 * (slow-able), or with `lexicon` LexiconModels whose answers are dictionary translations.
 */
export async function startTestServer(
  settings: Partial<ServerSettings> = {},
  opts: { ready?: boolean; log?: (l: string) => void; lexicon?: boolean } = {},
): Promise<TestServer> {
  const registry = new ModelRegistry();
  const tok = new CharTokenizer();
  const models: Record<string, SlowFakeSeqModel> = {};
  for (const pair of PAIRS) {
    models[pair] = opts.lexicon
      ? (new LexiconModel(pair, tok, LEXICON_MAX_POSITIONS) as unknown as SlowFakeSeqModel)
      : new SlowFakeSeqModel(tok.vocabSize);
    registry.add(
      pair,
      engineFor(models[pair]!, tok),
      DecodingDefaultsSchema.parse({ beamSize: 4, maxLength: opts.lexicon ? LEXICON_MAX_POSITIONS - 1 : 40 }),
    );
  }
  if (opts.ready ?? true) registry.markReady();
  const logs: string[] = [];
  const app = buildApp({ registry, settings, log: opts.log ?? ((l) => logs.push(l)) });
  const server = createServer(app.app);
  app.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/translate/stream`,
    server,
    app,
    registry,
    models,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await app.shutdown();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** POST JSON (or raw bytes) and return status + parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const raw = body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
