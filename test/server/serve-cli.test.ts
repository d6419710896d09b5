// `resmlp serve` (src/cli/serve.ts + src/server/main.ts) end to end in a child process on a real
// checkpoint (the translator tests' tiny random Seq2Seq + SentencePiece, test/mt/translator-fixture.ts):
// boot with /health 503 → 200, a LibreTranslate request, then SIGTERM while a request is decoding:
// the request still gets its 200, the process exits 0. Also the serve config's validation
// (errors name the key) and the CLI's usage errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { readServeConfig, resolveServeConfig } from '../../src/server/config.js';
import { translatorFixture } from '../mt/translator-fixture.js';
import { waitFor } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'resmlp-serve-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function runCli(args: string[], env: Record<string, string> = {}) {
  const code = `import(${JSON.stringify(join(ROOT, 'src/cli/commands.ts'))}).then((m) => m.dispatch(${JSON.stringify(['serve', ...args])})).then((c) => { process.exitCode = c; })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, RESMLP_BACKEND: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const w of waiters.splice(0)) {
      const m = w.re.exec(stderr);
      if (m) w.resolve(m);
      else waiters.push(w);
    }
  });
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number>((r) => child.on('exit', (c, sig) => r(c ?? (sig ? 128 : 1))));
  /** Resolves with the first match of `re` in stderr, as soon as it is written; rejects if the process exits first. */
  const errLine = (re: RegExp): Promise<RegExpExecArray> => {
    const m = re.exec(stderr);
    if (m) return Promise.resolve(m);
    return Promise.race([
      new Promise<RegExpExecArray>((resolve) => waiters.push({ re, resolve })),
      exited.then((code) => Promise.reject(new Error(`exited with ${code} before writing ${re}:\n${stderr}`))),
    ]);
  };
  return { child, exited, out: () => stdout, err: () => stderr, errLine };
}

/** The number after `name ` in a Prometheus text (0 if absent). */
function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('serve config', () => {
  const ok = { models: { 'en-de': { checkpoint: 'x.safetensors' } } };
  test('defaults fill everything not given', () => {
    const c = resolveServeConfig(ok);
    assert.equal(c.server.maxWaitMs, 10);
    // beam size and length penalty are left to the checkpoint (a tuned lenpen) unless the config sets them
    assert.deepEqual(c.models['en-de']!.decoding, { maxLength: 200, noRepeatNgramSize: 0, unkPenalty: 0 });
  });
  const bad: [string, unknown, RegExp][] = [
    ['unknown server key', { ...ok, server: { maxBatch: 3 } }, /serve config: server: Unrecognized key: "maxBatch"/],
    ['bad decoding value', { models: { 'en-de': { checkpoint: 'x', decoding: { beamSize: 0 } } } }, /models\.en-de\.decoding\.beamSize: /],
    ['bad type', { ...ok, server: { apiKeys: 'k' } }, /server\.apiKeys: .*array/],
    ['not a pair', { models: { english: { checkpoint: 'x' } } }, /models\.english: .*language pair such as "en-de"/],
    ['no models', { models: {} }, /models: at least one model/],
    ['checkpoint missing', { models: { 'en-de': {} } }, /models\.en-de\.checkpoint: /],
    ['unknown top-level key', { ...ok, modles: {} }, /Unrecognized key: "modles"/],
    ['negative joinWaitSteps', { ...ok, server: { joinWaitSteps: -1 } }, /server\.joinWaitSteps: /],
    ['fractional joinWaitSteps', { ...ok, server: { joinWaitSteps: 1.5 } }, /server\.joinWaitSteps: /],
  ];
  for (const [name, raw, re] of bad) test(`refused: ${name}`, () => assert.throws(() => resolveServeConfig(raw), re));
  test('the shipped configs validate (configs/serve/*.json, the k8s ConfigMap)', () => {
    const dir = join(ROOT, 'configs', 'serve');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    for (const f of files) readServeConfig(join(dir, f));
    const yaml = readFileSync(join(ROOT, 'deploy', 'k8s', 'configmap.yaml'), 'utf8');
    const block = yaml
      .split('serve.json: |\n')[1]!
      .split('\n')
      .filter((l) => l.startsWith('    '))
      .join('\n');
    resolveServeConfig(JSON.parse(block), 'deploy/k8s/configmap.yaml serve.json');
  });
});

describe('resmlp serve', () => {
  test('usage errors exit 2; a bad config exits 1 naming the key (in-process)', async () => {
    const { command } = await import('../../src/cli/serve.js');
    const { runCommand } = await import('../../src/cli/command.js');
    const run = (argv: string[]) => runCommand(command, argv);
    const written: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const err = () => written.splice(0).join('');
    try {
      assert.equal(await run([]), 2);
      assert.match(err(), /--config is required/);
      assert.equal(await run(['--config', 'x.json', '--port', '70000']), 2);
      assert.match(err(), /--port must be in 0\.\.65535, got 70000/);
      const cfg = join(tmp, 'bad.json');
      writeFileSync(cfg, JSON.stringify({ models: { 'en-de': { checkpoint: 'x', decoding: { lenpen: 'high' } } } }));
      assert.equal(await run(['--config', cfg]), 1);
      assert.match(err(), /models\.en-de\.decoding\.lenpen: /);
      const missing = join(tmp, 'missing.json');
      writeFileSync(missing, JSON.stringify({ models: { 'en-de': { checkpoint: join(tmp, 'nope.safetensors') } } }));
      assert.equal(await run(['--config', missing, '--port', '0', '--backend', 'cpu']), 1);
      assert.match(err(), /models\.en-de\.checkpoint: .*nope\.safetensors/);
    } finally {
      process.stderr.write = orig;
    }
  });

  test('boots on a real checkpoint, serves, and drains in-flight work on SIGTERM', async () => {
    const fx = await translatorFixture();
    const cfg = join(tmp, 'serve.json');
    // maxLiveRows 4: the streaming request below (beam 4) fills the decode loop, so the POST's
    // sentences wait in the queue while it decodes (the step scheduler would otherwise take them in at once)
    writeFileSync(
      cfg,
      JSON.stringify({
        server: { maxLiveRows: 4 },
        models: { 'en-de': { checkpoint: fx.checkpoint, sentencepiece: fx.spmModel, decoding: { beamSize: 2, maxLength: 20 } } },
      }),
    );
    const p = runCli(['--config', cfg, '--port', '0']);
    try {
      // wait on what the server says, not on sleeps: a loaded machine boots slower
      const url = (await p.errLine(/listening on (http:\/\/[^ ]+) /))[1]!;
      await p.errLine(/\[serve\] ready: en-de/);
      assert.equal((await fetch(`${url}/health`)).status, 200);
      assert.deepEqual(await (await fetch(`${url}/languages`)).json(), [
        { code: 'de', name: 'German', targets: [] },
        { code: 'en', name: 'English', targets: ['de'] },
      ]);
      const one = await fetch(`${url}/translate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ q: fx.lines[0], source: 'en', target: 'de' }),
      });
      assert.equal(one.status, 200);
      assert.equal(typeof ((await one.json()) as { translatedText: unknown }).translatedText, 'string');
      // SIGTERM while a WebSocket request is decoding (its first step has arrived) and a POST waits
      const ws = new WebSocket(url.replace('http', 'ws') + '/translate/stream');
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      const msgs: { step?: number; done?: boolean }[] = [];
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      // the first step message, not the {sentences} announcement that comes before decoding starts
      const firstStep = new Promise<void>((r) =>
        ws.on('message', (d) => {
          const m = JSON.parse(String(d)) as { step?: number; done?: boolean };
          msgs.push(m);
          if (m.step !== undefined) r();
        }),
      );
      ws.send(JSON.stringify({ id: 1, q: fx.lines[1], source: 'en', target: 'de', beam_size: 4, max_length: 60 }));
      await firstStep;
      const metrics = async () => (await fetch(`${url}/metrics`)).text();
      const queued = async () => ((await (await fetch(`${url}/health`)).json()) as { queued: number }).queued;
      const batchesBefore = metric(await metrics(), 'resmlp_batch_sentences_count');
      const q = fx.lines.slice(0, 16);
      const inflight = fetch(`${url}/translate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ q, source: 'en', target: 'de', beam_size: 4, max_length: 40 }),
      });
      // SIGTERM only once the server holds the POST (queued behind the stream; or, should the
      // stream have ended first, in a batch of the batch scheduler): a request that had not
      // arrived yet would rightly be refused
      await waitFor(
        'the POST reaches the batcher',
        async () => (await queued()) > 0 || metric(await metrics(), 'resmlp_batch_sentences_count') > batchesBefore,
      );
      p.child.kill('SIGTERM');
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { translatedText: string[] }).translatedText.length, 16);
      assert.equal(await closed, 1001, 'sockets are closed with 1001 going away');
      assert.ok(
        msgs.some((m) => m.done),
        'the streaming request finished before its socket closed',
      );
      assert.equal(await p.exited, 0);
      assert.match(p.err(), /SIGTERM[\s\S]*shutting down[\s\S]*stopped/);
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});
