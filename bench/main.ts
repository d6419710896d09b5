// `npm run bench [-- --json] [--only matmul,step] [--threads N] [--reps N]`: every benchmark of
// the project, measured side by side in one run on this machine. Human-readable tables go to
// stderr/stdout as they finish; with --json the last stdout line is one JSON object with the
// headline ratios (matmulVsSgemm, stepVsPytorch, decodeInt8Speedup, …) so CI-like tooling can read it.
import os from 'node:os';
import { parseArgs, formatHelp, type FlagSpec } from '../src/cli/args.js';
import { matmulBench } from './matmul.js';
import { stepBench, pytorchStep } from './step.js';
import { decodeBench } from './decode.js';
import { mtTrainBench } from './mt-train.js';
import { formatMtTrainReal, mtTrainRealBench, prepareShared } from './mt-train-real.js';
import { mtTrainRssBench } from './mt-train-rss.js';
import { formatInt8Bench, int8Bench } from './decode-int8.js';
import { mpiBench } from './mpi.js';

const SPEC: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print one JSON object with the results as the last line' },
  only: {
    type: 'string',
    help: 'comma-separated sections to run (matmul, step, mt-train, decode, mpi; int8: needs --mt-checkpoint)',
    default: 'matmul,step,mt-train,decode,mpi',
  },
  threads: { type: 'int', help: 'threads for our kernels and for PyTorch', default: os.availableParallelism() },
  reps: { type: 'int', help: 'timed repetitions per measurement (median reported)', default: 5 },
  backends: { type: 'string', help: 'backends for the training-step comparison', default: 'native,wasm,cpu' },
  'mt-checkpoint': {
    type: 'string',
    help: 'trained translation checkpoint for the decode bench (default: random init of the small config)',
  },
  'decode-sentences': { type: 'int', help: 'test_2016 sentences decoded with beam 4', default: 1000 },
  'mt-data': {
    type: 'string',
    help: 'prepared Multi30k En-De folder for the real-batch training figure (default: prepared from ../shared/data/multi30k)',
  },
  'int8-rounds': { type: 'int', help: 'int8 section: rounds over the test set, fp32 and int8 interleaved', default: 3 },
};

const SECTIONS = ['matmul', 'step', 'mt-train', 'decode', 'mpi', 'int8'];

async function main(): Promise<void> {
  const { flags, help } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    process.stdout.write(formatHelp('usage: npm run bench -- [options]', SPEC));
    return;
  }
  const only = String(flags.only).split(',').filter(Boolean);
  const unknown = only.filter((s) => !SECTIONS.includes(s));
  if (unknown.length) throw new Error(`--only: unknown section(s) ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
  const threads = flags.threads as number;
  const reps = flags.reps as number;
  process.env.RESMLP_THREADS = String(threads);
  const out: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    threads,
  };

  if (only.includes('matmul')) {
    const { rows, minRatio } = await matmulBench();
    console.log('\n## matmul: tfjs native backend vs raw cblas_sgemm (GFLOP/s, median)');
    console.log('shape (MxKxN)            native   raw sgemm   ratio');
    for (const r of rows)
      console.log(
        `${r.shape.padEnd(22)} ${r.nativeGflops.toFixed(1).padStart(8)} ${r.rawGflops.toFixed(1).padStart(11)} ${r.ratio.toFixed(2).padStart(7)}`,
      );
    console.log(`smallest ratio: ${minRatio.toFixed(3)} (target ≥ 0.90)`);
    out.matmul = rows;
    out.matmulVsSgemm = minRatio;
  }

  if (only.includes('step')) {
    const backends = String(flags.backends).split(',').filter(Boolean);
    // The JS backends take tens of seconds (wasm) to minutes (cpu) per step: one timed rep each.
    const ours = [];
    for (const b of backends) ours.push(...(await stepBench({ backends: [b], threads, reps: b === 'native' ? reps : 1 })));
    const torch = pytorchStep({ threads, reps });
    console.log(
      '\n## training step: 2 causal ResMLP blocks, batch 32×32 tokens, d 512, hidden 2048, 8k vocab, tied embedding, label-smoothed loss',
    );
    console.log('backend        step (ms)');
    for (const r of ours)
      console.log(
        `${r.backend.padEnd(14)} ${r.error ? `(not measured: ${r.error})` : r.stepMs.toFixed(1).padStart(9)}${r.backend === 'native' ? '' : '   (1 timed rep)'}`,
      );
    if ('error' in torch) console.log(`pytorch        (not measured: ${torch.error})`);
    else console.log(`${'pytorch'.padEnd(14)} ${torch.stepMs.toFixed(1).padStart(9)}`);
    const native = ours.find((r) => r.backend === 'native');
    out.step = { ours, pytorch: torch };
    if (native && !('error' in torch)) {
      out.stepVsPytorch = torch.stepMs / native.stepMs;
      console.log(`PyTorch step ÷ native step: ${(torch.stepMs / native.stepMs).toFixed(3)} (target ≥ 1)`);
    }
  }

  if (only.includes('mt-train')) {
    const r = await mtTrainBench({ threads, reps: Math.min(reps, 3), log: (line) => console.error(line) });
    console.log('\n## translation training update (4096 target tokens, synthetic batch, native)');
    console.log('config                      params      step (s)   target tok/s   model GFLOP/s');
    for (const row of r.rows) {
      console.log(
        `${row.config.padEnd(26)} ${row.params.toLocaleString('en-US').padStart(11)} ${(row.stepMs / 1000).toFixed(2).padStart(10)} ${row.tokensPerSec.toFixed(0).padStart(14)} ${row.modelGflops.toFixed(1).padStart(15)}`,
      );
    }
    console.log(
      `raw sgemm ${r.sgemmGflops.toFixed(1)} GFLOP/s; ResMLP-6 model FLOP rate ÷ sgemm = ${r.mtTrainFlopsVsSgemm.toFixed(3)} (target ≥ 0.5)`,
    );
    out.mtTrain = r.rows;
    out.mtTrainTokensPerSec = { small: r.mtTrainTokensPerSecSmall, resmlp6: r.mtTrainTokensPerSecResmlp6 };
    out.mtTrainFlopsVsSgemm = r.mtTrainFlopsVsSgemm;
    // Multi30k prepared once for the two real-data benches below (unless --mt-data gives it)
    let m30k: { dir: string; cleanup: () => void } | undefined;
    const mtData = async () => {
      if (flags['mt-data'] !== undefined) return flags['mt-data'] as string;
      m30k ??= await prepareShared((line) => console.error(line), true);
      return m30k.dir;
    };
    // the same small model on real bucketed Multi30k batches, interleaved with the synthetic one
    try {
      const real = await mtTrainRealBench({
        threads,
        pairs: 4 * Math.min(reps, 3),
        data: await mtData(),
        log: (line) => console.error(line),
      });
      console.log(['', ...formatMtTrainReal(real)].join('\n'));
      out.mtTrainReal = real;
      out.mtTrainRealTokensPerSec = real.real.tokensPerSec;
      out.mtTrainRealVsSynthetic = real.mtTrainRealVsSynthetic;
    } catch (e) {
      console.log(`\n## translation training on real Multi30k batches: not measured: ${(e as Error).message.split('\n')[0]}`);
      out.mtTrainReal = { error: (e as Error).message };
    }
    // peak memory of a real `resmlp mt train` run of the small config (child process, VmHWM)
    try {
      const rss = await mtTrainRssBench({ data: await mtData(), log: (line) => console.error(line) });
      console.log(
        `\n## translation training memory: resmlp mt train ${rss.config}, ${rss.updates} updates with a validation and a checkpoint (${rss.seconds.toFixed(0)} s): peak RSS ${rss.peakRssMb.toFixed(0)} MB (target ≤ 2500)`,
      );
      out.mtTrainPeakRssMb = rss.peakRssMb;
      out.mtTrainRss = rss;
    } catch (e) {
      console.log(`\n## translation training memory: not measured: ${(e as Error).message.split('\n')[0]}`);
      out.mtTrainRss = { error: (e as Error).message };
    }
    (m30k as { cleanup: () => void } | undefined)?.cleanup();
  }

  if (only.includes('decode')) {
    const r = await decodeBench({
      checkpoint: flags['mt-checkpoint'] as string | undefined,
      sentences: flags['decode-sentences'] as number,
      beam: 4,
      threads,
      backend: 'native',
      log: (line) => console.error(line),
    });
    console.log(`\n## decoding: beam 4, ${r.sentences} Multi30k test_2016 sentences, ${r.model}`);
    console.log(
      `sentences/s ${r.decodeSentencesPerSec.toFixed(1)}, target tokens/s ${r.targetTokensPerSec.toFixed(0)}, mean hypothesis ${r.meanHypothesisTokens.toFixed(1)} tokens (maxLenA ${r.maxLenA}, maxLenB ${r.maxLenB})`,
    );
    console.log(
      `incremental vs full recompute on ${r.fullSubset} sentences: ${r.fullSeconds.toFixed(2)} s ÷ ${r.incrementalSubsetSeconds.toFixed(2)} s = ${r.incrementalSpeedup.toFixed(2)}× (same best hypothesis on ${r.sameHypotheses}/${r.fullSubset})`,
    );
    out.decode = r;
    out.decodeSentencesPerSec = r.decodeSentencesPerSec;
    out.incrementalSpeedup = r.incrementalSpeedup;
  }

  if (only.includes('mpi')) {
    // its own processes (mpirun -np 2 and one process), each with the threads it compares
    try {
      const r = await mpiBench({ updates: 5, reps: Math.max(10, reps * 2), log: (line) => console.error(line) });
      console.log(
        `\n## data-parallel training over Open MPI (${r.config}, ${r.params.toLocaleString('en-US')} parameters, 2 × 4096-token batches per update)`,
      );
      console.log(
        `1 process × 2 threads: ${r.oneRank.tokensPerSec.toFixed(0)} target tok/s; mpirun -np 2 × 1 thread: ${r.twoRanks.tokensPerSec.toFixed(0)} tok/s; mpiScaling2 ${r.mpiScaling2.toFixed(3)}`,
      );
      console.log(
        `gradient sum of ${(r.gradientBytes / 1e6).toFixed(1)} MB over 2 ranks: ${r.allreduceGBps.toFixed(2)} GB/s vs raw MPI_Allreduce ${r.allreduceRawGBps.toFixed(2)} GB/s = ${r.allreduceVsRaw.toFixed(3)} (target ≥ 0.9); ${(100 * r.allreduceShareOfUpdate).toFixed(1)}% of a 2-rank update`,
      );
      out.mpi = r;
      out.mpiScaling2 = r.mpiScaling2;
      out.allreduceGBps = r.allreduceGBps;
      out.allreduceVsRaw = r.allreduceVsRaw;
    } catch (e) {
      console.log(`\n## data-parallel training over Open MPI: not measured: ${(e as Error).message.split('\n')[0]}`);
      out.mpi = { error: (e as Error).message };
    }
  }

  if (only.includes('int8')) {
    // int8 vs fp32 decoding of a trained model, interleaved in one run (bench/decode-int8.ts)
    const checkpoint = flags['mt-checkpoint'] as string | undefined;
    if (checkpoint === undefined) {
      console.log('\n## int8 vs fp32 decoding: not measured: needs a trained checkpoint (--mt-checkpoint)');
    } else {
      const r = await int8Bench({
        checkpoint,
        sentences: flags['decode-sentences'] as number,
        beam: 4,
        threads,
        rounds: flags['int8-rounds'] as number,
        log: (line) => console.error(line),
      });
      console.log(['', ...formatInt8Bench(r)].join('\n'));
      out.int8 = r;
      out.decodeInt8Speedup = r.decodeInt8Speedup;
      out.int8BleuDelta = r.int8BleuDelta;
      out.int8WeightsRatio = r.int8WeightsRatio;
    }
  }

  if (flags.json) console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
