// UserError: the kind decides the HTTP status and the exit code (never the class name), and the
// server's one mapping answers UserErrors with their message and everything else as a bare 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SequenceTooLongError } from '../../src/mt/model/seq2seq.js';
import { DownloadError } from '../../src/mt/data/download.js';
import { SentenceTooLongError, TranslationOptionsError } from '../../src/mt/translator.js';
import { CancelledError, DeadlineError, errorAnswer } from '../../src/server/errors.js';
import { HTTP_STATUS, UserError } from '../../src/util/errors.js';

test('the kind decides status and exit code; a subclass of any name keeps them', () => {
  class SomeRenamedError extends UserError {}
  const e = new SomeRenamedError('x', 'queue_full', { 'Retry-After': '1' });
  assert.equal(e.status, 429);
  assert.equal(e.exitCode, 1);
  assert.equal(e.name, 'SomeRenamedError');
  assert.equal(new UserError('bad flag', 'usage').exitCode, 2);
  assert.equal(new UserError('x').status, 400, 'default kind: invalid_input');
  assert.deepEqual(errorAnswer(e), { status: 429, kind: 'queue_full', message: 'x', headers: { 'Retry-After': '1' }, internal: false });
});

test('input errors of the translation side are UserErrors with their kinds', () => {
  assert.equal(errorAnswer(new SentenceTooLongError(3, 80, 63)).status, 400);
  assert.equal(new SentenceTooLongError(3, 80, 63).kind, 'over_limit');
  assert.equal(new SequenceTooLongError('too long').kind, 'over_limit');
  assert.equal(new TranslationOptionsError('beam 0').status, 400);
  assert.equal(new DownloadError('offline').status, 502);
  assert.equal(new DeadlineError(60).status, 504);
  assert.equal(new CancelledError().status, 499);
});

test('anything else is internal: 500, message hidden', () => {
  assert.deepEqual(errorAnswer(new Error('secret /etc/passwd')), {
    status: 500,
    kind: 'internal',
    message: 'internal error',
    headers: {},
    internal: true,
  });
  assert.equal(errorAnswer('a string').status, 500);
});

test('every kind has an HTTP status', () => {
  for (const [k, s] of Object.entries(HTTP_STATUS)) assert.ok(s >= 400 && s < 600, k);
});
