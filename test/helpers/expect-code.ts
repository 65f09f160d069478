import assert from 'node:assert/strict';
import { Recist3dError, type ErrorCode } from '../../src/errors.js';

/** Asserts `fn` rejects or throws a Recist3dError with `code` and a message matching `msg`; returns it. */
export async function expectCode(fn: () => unknown, code: ErrorCode, msg: RegExp): Promise<Recist3dError> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Recist3dError, `expected a Recist3dError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, msg);
  return err;
}
