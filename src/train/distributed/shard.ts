// Which batches each rank trains on. An update takes updateFreq batches per rank, so N ranks make
// one update of N × updateFreq consecutive batches of the epoch (fewer at its end), as fairseq's
// distributed --update-freq and PyTorch DDP's DistributedSampler do: the effective batch is
// ranks × updateFreq × batch. Rank r takes the batches r, r + N, r + 2N, … of the update. Batches
// are numbered in the epoch (global), so the data position of a checkpoint does not depend on the
// number of ranks, and the dropout key of a batch (seed, epoch, batch) is already different on
// every rank: 2 ranks × updateFreq 1 and 1 process × updateFreq 2 train the same batches with the
// same masks.

/** Batches in the update that starts at batch `start` of an epoch of `batches`. */
export function updateBatches(start: number, batches: number, updateFreq: number, ranks: number): number {
  return Math.max(0, Math.min(updateFreq * ranks, batches - start));
}

/** The batches (indices in the epoch) rank `rank` of `ranks` trains in an update of `count` batches from `start`. */
export function rankBatches(start: number, count: number, rank: number, ranks: number): number[] {
  const mine: number[] = [];
  for (let k = rank; k < count; k += ranks) mine.push(start + k);
  return mine;
}
