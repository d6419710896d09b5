// Errors the server answers with: an ApiError carries the HTTP status, the message the client
// sees (what was expected, what was found) and a `kind` label for the errors_total metric.
// Anything else is an internal error: logged with context, answered as a bare 500.

export type ErrorKind =
  | 'invalid_request'
  | 'invalid_utf8'
  | 'too_large'
  | 'unknown_pair'
  | 'undetected_language'
  | 'over_limit'
  | 'unauthorized'
  | 'rate_limited'
  | 'queue_full'
  | 'timeout'
  | 'cancelled'
  | 'unavailable'
  | 'not_found'
  | 'internal';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly kind: ErrorKind,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, kind: ErrorKind = 'invalid_request') => new ApiError(400, message, kind);

/** The request's deadline passed (in the queue or while decoding). */
export class DeadlineError extends ApiError {
  constructor(ms: number) {
    super(504, `the request did not finish within its deadline of ${ms} ms`, 'timeout');
  }
}

/** The client went away or cancelled: nobody reads the answer. */
export class CancelledError extends ApiError {
  constructor(what = 'request') {
    super(499, `${what} was cancelled`, 'cancelled');
  }
}

/** Maps an abort reason to the error the caller should see. */
export function abortReasonToError(reason: unknown, deadlineMs: number): ApiError {
  if (reason instanceof ApiError) return reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') return new DeadlineError(deadlineMs);
  return new CancelledError();
}

/** Errors of the translation side that mean "bad input" (src/mt/translator.ts, src/mt/model). */
const INPUT_ERRORS = new Set(['SequenceTooLongError', 'SentenceTooLongError', 'TranslationInputError', 'TranslationOptionsError']);

/** An ApiError for `e` if it is one or a known input error; null for internal errors. */
export function knownApiError(e: unknown): ApiError | null {
  if (e instanceof ApiError) return e;
  if (e instanceof Error && INPUT_ERRORS.has(e.name)) return new ApiError(400, e.message, 'over_limit');
  return null;
}
