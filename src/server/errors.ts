// How the server answers errors, HTTP and WebSocket alike: a UserError (src/util/errors.ts) is
// answered with the status of its kind and its message; anything else is an internal error,
// logged with context by the caller and answered as a bare 500. Also the errors of the server
// itself: a request past its deadline, a request whose client went away.
import { type ErrorKind, UserError } from '../util/errors.js';

export type { ErrorKind };

export const badRequest = (message: string, kind: ErrorKind = 'invalid_request') => new UserError(message, kind);

/** The request's deadline passed (in the queue or while decoding). */
export class DeadlineError extends UserError {
  constructor(ms: number) {
    super(`the request did not finish within its deadline of ${ms} ms`, 'timeout');
  }
}

/** The client went away or cancelled: nobody reads the answer. */
export class CancelledError extends UserError {
  constructor(what = 'request') {
    super(`${what} was cancelled`, 'cancelled');
  }
}

/** Maps an abort reason to the error the caller should see. */
export function abortReasonToError(reason: unknown, deadlineMs: number): UserError {
  if (reason instanceof UserError) return reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') return new DeadlineError(deadlineMs);
  return new CancelledError();
}

/** What the client is told about an error. */
export interface ErrorAnswer {
  status: number;
  kind: ErrorKind | 'internal';
  /** The UserError's message, or "internal error". */
  message: string;
  headers: Readonly<Record<string, string>>;
  /** Not a UserError: the caller logs it with its stack. */
  internal: boolean;
}

/** The one mapping from an error to the answer (HTTP response or WebSocket message). */
export function errorAnswer(e: unknown): ErrorAnswer {
  if (e instanceof UserError) return { status: e.status, kind: e.kind, message: e.message, headers: e.headers, internal: false };
  return { status: 500, kind: 'internal', message: 'internal error', headers: {}, internal: true };
}
