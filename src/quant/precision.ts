// The numeric precisions a translation model decodes in: 'fp32', or 'int8' (int8 linear layers on
// the native backend's oneDNN kernels; apply.ts). Names and their check only, so that the CLI can
// validate a flag without loading TensorFlow.js.
import { type ErrorKind, UserError } from '../util/errors.js';

export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Checks a user's value; `where` names the flag or config key in the error. */
export function parsePrecision(value: unknown, where: string, kind: ErrorKind = 'invalid_config'): Precision {
  if (typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value)) return value as Precision;
  throw new UserError(`${where}: expected one of ${PRECISIONS.join(', ')}, found ${JSON.stringify(value)}`, kind);
}
