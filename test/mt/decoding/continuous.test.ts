// ContinuousGenerator (step-level batching): every sentence gets exactly what SequenceGenerator
// gives it alone — added together, joining a running loop mid-decode, with its own n-best, length
// penalty and max length — while cancelled sentences leave at once, admission is in arrival order
// within maxRows, and the model state is freed when the loop goes idle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ContinuousGenerator, type Hypothesis, SequenceGenerator, type StepEvent } from '../../../src/mt/decoding/index.js';
import { ContinuousHashModel, makeSources } from './fake-models.js';

const V = 12;
const plain = (h: readonly Hypothesis[]) =>
  h.map((x) => ({ tokens: Array.from(x.tokens), score: x.score, pos: Array.from(x.positionalScores) }));

async function alone(src: Int32Array, cfg: Record<string, unknown>) {
  const model = new ContinuousHashModel(V, 40);
  const out = await new SequenceGenerator(model, cfg).generate([src]);
  return plain(out.results[0]!.hypos);
}

describe('ContinuousGenerator', () => {
  test('sentences added together: each gets its one-by-one result', async () => {
    const srcs = makeSources(9, V, 3);
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 4, nbest: 4, maxLenB: 12 });
    const got = await Promise.all(srcs.map((s) => gen.add(s, { nbest: 4, lenpen: 1 })));
    for (const [i, s] of srcs.entries())
      assert.deepEqual(plain(got[i]!.hypos), await alone(s, { beamSize: 4, nbest: 4, maxLenB: 12 }), `sentence ${i}`);
    assert.ok(Math.max(...gen.stats.sentencesPerStep) === 9, 'all nine decoded in the same steps');
    assert.equal(model.liveStates, 0, 'state freed once idle');
  });

  test("a sentence added while the loop winds down (from the last result's callback) still decodes", async () => {
    // the last sentence resolves inside the loop's final step; a caller that adds the next sentence
    // from that resolution (a microtask, before the loop has marked itself idle) must not be orphaned
    const srcs = makeSources(3, V, 5);
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 2, maxLenB: 6 });
    const want = (await alone(srcs[2]!, { beamSize: 2, maxLenB: 6 })).slice(0, 1);
    // the window is a few microtasks wide: add after 0..8 extra ticks
    for (let ticks = 0; ticks <= 8; ticks++) {
      const chained = gen.add(srcs[1]!, { nbest: 1, lenpen: 1 }).then(async () => {
        for (let k = 0; k < ticks; k++) await Promise.resolve();
        return gen.add(srcs[2]!, { nbest: 1, lenpen: 1 });
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'orphaned'>((r) => {
        timer = setTimeout(() => r('orphaned'), 5000);
      });
      const got = await Promise.race([chained, timeout]);
      clearTimeout(timer);
      assert.notEqual(got, 'orphaned', `the sentence added ${ticks} microtasks after the last result never decoded`);
      assert.deepEqual(plain((got as Awaited<typeof chained>).hypos), want, `after ${ticks} ticks`);
    }
    await gen.idle();
    assert.equal(model.liveStates, 0);
  });

  test('sentences joining mid-decode get their one-by-one results; the running one is undisturbed', async () => {
    const srcs = makeSources(6, V, 11);
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 3, nbest: 3, maxLenB: 15 });
    const later: Promise<unknown>[] = [];
    let joined = false;
    const first = gen.add(
      srcs[0]!,
      { nbest: 3, lenpen: 1 },
      {
        onStep: (e) => {
          if (e.step === 2 && !joined) {
            joined = true;
            for (const s of srcs.slice(1, 4)) later.push(gen.add(s, { nbest: 3, lenpen: 1 }));
          }
          if (e.step === 4) later.push(gen.add(srcs[4]!, { nbest: 3, lenpen: 1 }), gen.add(srcs[5]!, { nbest: 3, lenpen: 1 }));
        },
      },
    );
    await first;
    assert.equal(later.length, 5, 'five sentences joined while the first decoded');
    const all = [await first, ...((await Promise.all(later)) as Awaited<typeof first>[])];
    for (const [i, s] of srcs.entries())
      assert.deepEqual(plain(all[i]!.hypos), await alone(s, { beamSize: 3, nbest: 3, maxLenB: 15 }), `sentence ${i}`);
    assert.ok(
      gen.stats.sentencesPerStep.some((n) => n >= 4),
      `sentences shared steps: ${gen.stats.sentencesPerStep.join(',')}`,
    );
    assert.equal(model.liveStates, 0);
  });

  test('per-sentence n-best, length penalty and max length', async () => {
    const srcs = makeSources(4, V, 5);
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 4, nbest: 4, maxLenB: 20 });
    const settings = [
      { nbest: 1, lenpen: 1 },
      { nbest: 3, lenpen: 0.5 },
      { nbest: 4, lenpen: 2, maxLen: 3 },
      { nbest: 2, lenpen: 1.2, maxLen: 0 },
    ];
    const got = await Promise.all(srcs.map((s, i) => gen.add(s, settings[i]!)));
    for (const [i, s] of srcs.entries()) {
      const st = settings[i]!;
      const want = await alone(s, { beamSize: 4, nbest: st.nbest, lenpen: st.lenpen, maxLenB: st.maxLen ?? 20 });
      assert.deepEqual(plain(got[i]!.hypos), want, `sentence ${i}`);
    }
    assert.equal(got[3]!.hypos[0]!.tokens.length, 1, 'maxLen 0: EOS at once');
  });

  test('step events of a sentence arrive in order and end with done', async () => {
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 2, maxLenB: 10 });
    const ev: StepEvent[] = [];
    const r = await gen.add(makeSources(1, V, 8)[0]!, { nbest: 2, lenpen: 1 }, { onStep: (e) => ev.push(e) });
    ev.forEach((e, i) => assert.equal(e.step, i));
    assert.equal(ev.at(-1)!.done, true);
    assert.deepEqual(ev.at(-1)!.beams, []);
    for (const e of ev.slice(0, -1)) for (const b of e.beams) assert.equal(b.tokens.length, e.step + 1);
    assert.ok(r.hypos.length > 0);
  });

  test('a cancelled sentence leaves before the next step; the others finish unchanged', async () => {
    const srcs = makeSources(3, V, 21);
    const model = new ContinuousHashModel(V, 60);
    const gen = new ContinuousGenerator(model, { beamSize: 3, nbest: 3, maxLenB: 30 });
    const ctrl = new AbortController();
    let steps = 0;
    const [a, b, c] = [
      gen.add(srcs[0]!, { nbest: 3, lenpen: 1 }),
      gen.add(srcs[1]!, { nbest: 3, lenpen: 1, maxLen: 30 }, { signal: ctrl.signal, onStep: (e) => ++steps === 2 && e && ctrl.abort() }),
      gen.add(srcs[2]!, { nbest: 3, lenpen: 1 }),
    ];
    const rb = await b;
    assert.equal(rb.aborted, true);
    assert.equal(steps, 2, 'no step after the cancel');
    assert.deepEqual(plain((await a).hypos), await alone(srcs[0]!, { beamSize: 3, nbest: 3, maxLenB: 30 }));
    assert.deepEqual(plain((await c).hypos), await alone(srcs[2]!, { beamSize: 3, nbest: 3, maxLenB: 30 }));
    // cancelled before it was admitted
    const gone = new AbortController();
    gone.abort();
    assert.deepEqual(await gen.add(srcs[0]!, { nbest: 1, lenpen: 1 }, { signal: gone.signal }), { hypos: [], aborted: true });
  });

  test('arrivals during a decode wait at most joinWaitSteps steps and are encoded together', async () => {
    class CountingModel extends ContinuousHashModel {
      readonly encodes: number[] = [];
      override encode(srcs: readonly Int32Array[]) {
        this.encodes.push(srcs.length);
        return super.encode(srcs);
      }
    }
    const srcs = makeSources(4, V, 17);
    const cfg = { beamSize: 2, maxLenB: 14 };
    const run = async (joinWaitSteps: number, joinBatch = 8) => {
      const model = new CountingModel(V, 40);
      const gen = new ContinuousGenerator(model, cfg, { joinWaitSteps, joinBatch });
      const waited: number[] = [];
      const later: Promise<Awaited<ReturnType<typeof gen.add>>>[] = [];
      const addAt = (s: Int32Array) => {
        const at = gen.stats.steps;
        later.push(gen.add(s, { nbest: 1, lenpen: 1 }, { onStep: (e) => e.step === 0 && waited.push(gen.stats.steps - 1 - at) }));
      };
      const first = gen.add(srcs[0]!, { nbest: 1, lenpen: 1 }, { onStep: (e) => e.step >= 1 && e.step <= 3 && addAt(srcs[e.step]!) });
      const all = [await first, ...(await Promise.all(later))];
      for (const [i, r] of all.entries())
        assert.deepEqual(plain(r.hypos), (await alone(srcs[i]!, cfg)).slice(0, 1), `sentence ${i} (joinWaitSteps ${joinWaitSteps})`);
      return { encodes: model.encodes, waited };
    };
    const now = await run(0);
    assert.deepEqual(now.encodes, [1, 1, 1, 1], 'joinWaitSteps 0: each arrival joins at the next step, encoded alone');
    assert.deepEqual(now.waited, [0, 0, 0]);
    const batched = await run(2);
    assert.deepEqual(batched.encodes, [1, 3], 'joinWaitSteps 2: the three arrivals (one per step) are encoded in one batch');
    assert.ok(
      batched.waited.every((w) => w <= 2),
      `no arrival waited more than 2 steps: ${batched.waited}`,
    );
    const capped = await run(5, 2);
    assert.deepEqual(capped.encodes, [1, 2, 1], 'joinBatch 2: two waiting sentences join at once');
    const model = new ContinuousHashModel(V, 40);
    const lone = new ContinuousGenerator(model, cfg, { joinWaitSteps: 5 });
    let firstStepAt = -1;
    await lone.add(srcs[0]!, { nbest: 1, lenpen: 1 }, { onStep: (e) => e.step === 0 && (firstStepAt = lone.stats.steps) });
    assert.equal(firstStepAt, 1, 'a sentence arriving at an idle loop starts at the first step');
    assert.throws(() => new ContinuousGenerator(model, cfg, { joinWaitSteps: -1 }), /joinWaitSteps must be an integer ≥ 0, got -1/);
    assert.throws(() => new ContinuousGenerator(model, cfg, { joinBatch: 0 }), /joinBatch must be an integer ≥ 1, got 0/);
  });

  test('admission in arrival order within maxRows', async () => {
    const srcs = makeSources(5, V, 30);
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 2, maxLenB: 8 }, { maxRows: 4 });
    const finished: number[] = [];
    const started: number[] = [];
    await Promise.all(
      srcs.map((s, i) =>
        gen.add(s, { nbest: 1, lenpen: 1 }, { onStep: (e) => e.step === 0 && started.push(i) }).then(() => finished.push(i)),
      ),
    );
    assert.ok(Math.max(...gen.stats.sentencesPerStep) <= 2, 'never more than maxRows / beam sentences');
    assert.deepEqual(started, [0, 1, 2, 3, 4], 'admitted in arrival order');
    assert.equal(model.liveStates, 0);
    assert.throws(() => new ContinuousGenerator(model, { beamSize: 4 }, { maxRows: 3 }), /maxRows must be an integer ≥ the beam size 4/);
  });

  test('a model error fails the live sentences; the next one runs on a fresh loop', async () => {
    const model = new ContinuousHashModel(V, 40);
    const gen = new ContinuousGenerator(model, { beamSize: 2, maxLenB: 8 });
    const orig = model.stepRows.bind(model);
    model.stepRows = () => {
      throw new Error('kernel failed');
    };
    await assert.rejects(gen.add(makeSources(1, V, 1)[0]!, { nbest: 1, lenpen: 1 }), /kernel failed/);
    model.stepRows = orig;
    const ok = await gen.add(makeSources(1, V, 1)[0]!, { nbest: 1, lenpen: 1 });
    assert.equal(ok.aborted, false);
    assert.equal(model.liveStates, 0);
  });
});
