// Errors a user can act on. Every input error of the tree — a bad request field, a bad flag, a
// malformed data file, a sentence the model cannot take — extends UserError, whose `kind` says
// what went wrong and decides how it is reported: the HTTP status the server answers (one table
// here, for HTTP and WebSocket alike) and the CLI's exit code (2 for usage, else 1). The message
// says what was expected, what was found and where. Anything that is not a UserError is a bug or
// a failure of the environment: the server logs it with its stack and answers a bare 500; the
// CLI prints the stack.

export type ErrorKind =
  /** An input of the caller is wrong (a value, a text, an option). */
  | 'invalid_input'
  /** A request body or message is malformed (types, JSON, unknown fields of our own protocol). */
  | 'invalid_request'
  | 'invalid_utf8'
  /** A config file or config value is wrong. */
  | 'invalid_config'
  /** A data file (corpus, dataset, checkpoint, SentencePiece model) is missing or malformed. */
  | 'invalid_data'
  /** Command-line usage: unknown flag, missing argument. */
  | 'usage'
  | 'too_large'
  | 'over_limit'
  | 'unknown_pair'
  | 'undetected_language'
  | 'not_found'
  | 'unauthorized'
  | 'rate_limited'
  | 'queue_full'
  | 'timeout'
  | 'cancelled'
  | 'unavailable'
  /** Fetching something over the network failed. */
  | 'download';

/** The HTTP status of each kind (499: the client went away — nobody reads it). */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  invalid_input: 400,
  invalid_request: 400,
  invalid_utf8: 400,
  invalid_config: 400,
  invalid_data: 400,
  usage: 400,
  too_large: 413,
  over_limit: 400,
  unknown_pair: 400,
  undetected_language: 400,
  not_found: 404,
  unauthorized: 403,
  rate_limited: 429,
  queue_full: 429,
  timeout: 504,
  cancelled: 499,
  unavailable: 503,
  download: 502,
};

export class UserError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind = 'invalid_input',
    /** Extra response headers (e.g. Retry-After). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The HTTP status the server answers with. */
  get status(): number {
    return HTTP_STATUS[this.kind];
  }

  /** The CLI's exit code: 2 for usage errors, 1 for the others. */
  get exitCode(): number {
    return this.kind === 'usage' ? 2 : 1;
  }
}
