// Test helpers for the server: a character tokenizer, a deterministic fake seq2seq model (the
// decoding tests' HashModel: log-probs are a function of (source, prefix) only, so batching
// cannot change results) driven by the real Translator + SequenceGenerator, with an optional
// per-step delay, and an in-process app listening on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, type ServerApp } from '../../src/server/app.js';
import type { ServerSettings } from '../../src/server/config.js';
import { DecodingDefaultsSchema } from '../../src/server/config.js';
import type { DecoderModel } from '../../src/mt/decoding/types.js';
import { type TextCodec, Translator } from '../../src/mt/translator.js';
import { TranslatorEngine, UNBOUNDED_TRANSLATOR_TOKENS } from '../../src/server/engine.js';
import { ModelRegistry } from '../../src/server/models.js';
import { HashModel } from '../mt/decoding/fake-models.js';

const ALPHABET = ' abcdefghijklmnopqrstuvwxyzäöüéè.,!?\'-0123456789';
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

/** HashModel with an optional delay per step (a slow model) and a fault switch. */
export class FakeSeqModel extends HashModel {
  stepDelayMs = 0;
  /** Decoder steps taken so far (tests wait on it to know a request is being decoded). */
  steps = 0;
  /** Throw from step() with this message (an internal error). */
  failWith: string | null = null;
  constructor(vocabSize: number, maxPositions = 48) {
    super(vocabSize, maxPositions);
  }
  override step(prev: Int32Array, st: Parameters<HashModel['step']>[1], t: number): Float32Array {
    if (this.failWith !== null) throw new Error(this.failWith);
    this.steps++;
    return super.step(prev, st, t);
  }
}

/** A delayed step: HashModel's result after `stepDelayMs` (StepResult may be a promise). */
export class SlowFakeSeqModel extends FakeSeqModel {
  // @ts-expect-error -- widen the return type to a promise (the generator awaits StepResult)
  override step(prev: Int32Array, st: Parameters<HashModel['step']>[1], t: number): Float32Array | Promise<Float32Array> {
    const out = super.step(prev, st, t);
    if (this.stepDelayMs <= 0) return out;
    return new Promise((r) => setTimeout(() => r(out), this.stepDelayMs));
  }
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

/** The app around fake engines for en-de, en-fr, de-en, listening on 127.0.0.1:<random>. */
export async function startTestServer(settings: Partial<ServerSettings> = {}, opts: { ready?: boolean; log?: (l: string) => void } = {}): Promise<TestServer> {
  const registry = new ModelRegistry();
  const tok = new CharTokenizer();
  const models: Record<string, SlowFakeSeqModel> = {};
  for (const pair of PAIRS) {
    models[pair] = new SlowFakeSeqModel(tok.vocabSize);
    registry.add(pair, engineFor(models[pair]!, tok), DecodingDefaultsSchema.parse({ beamSize: 4, maxLength: 40 }));
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
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
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
