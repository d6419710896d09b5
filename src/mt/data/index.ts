// Public API of the translation data pipeline: raw parallel text → cleaned text → joint
// SentencePiece → binary dataset → token batches, plus the Multi30k and WMT14 fetchers.
export { normalizeLine, filterPair, describeCleaning, type DropReason, type FilterOptions } from './clean.js';
export { readLines, countLines, sha256File, firstInvalidUtf8, TextInputError, type Line } from './text-io.js';
export {
  SentencePiece,
  SentencePieceError,
  trainSentencePiece,
  spmTrainArgs,
  readVocab,
  SPECIAL_IDS,
  DEFAULT_SPM_TRAIN,
  type SpmTrainOptions,
} from './spm.js';
export { TokenFile, TokenFileWriter, DatasetFormatError, idDtypeFor, type IdDtype, type OffsetDtype } from './binary-dataset.js';
export {
  PreparedDataset,
  ParallelSplit,
  readManifest,
  FORMAT_NAME,
  FORMAT_VERSION,
  type DatasetManifest,
  type SplitInfo,
  type SplitName,
  type Side,
} from './dataset.js';
export {
  prepareDataset,
  resolvePrepareOptions,
  checkParallel,
  DEFAULT_PREPARE,
  PrepareError,
  type PrepareOptions,
  type PrepareInputs,
  type PrepareResult,
  type FilePair,
} from './prepare.js';
export {
  TokenBatcher,
  resolveBatchingConfig,
  pairSource,
  arrayPairSource,
  DEFAULT_BATCHING,
  BatchingError,
  type BatchingConfig,
  type Batch,
  type BatchPosition,
  type PairSource,
  type SpecialIds,
} from './batching.js';
export { download, hashFile, DownloadError, DOWNLOAD_RECORDS, type DownloadSpec, type DownloadRecord } from './download.js';
export { extractTar, listTar, gunzipFile, parseSgml, sgmlToText, unescapeEntities, concatFiles, ExtractError } from './extract.js';
export {
  fetchMulti30k,
  fetchWmt14,
  MULTI30K_BASE_URL,
  MULTI30K_SPLITS,
  WMT14_ARCHIVES,
  WMT14_TRAIN,
  SourceError,
  type Wmt14Archive,
} from './sources.js';
