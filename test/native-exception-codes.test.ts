/**
 * Every family of C++ exception that can escape a native entry point maps to its error code and the process
 * lives on: the classifier is shared by every entry point and async task (native/engine.cc). The test seam
 * `throwForTest` raises each family from inside an entry point, because no input makes OpenCV throw anything but
 * out-of-memory once our own checks pass (native/README.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeAddon } from '../src/model/native.js';

const CASES = [
  ['opencv', 'E_NATIVE_OPENCV', /test: a cv::Exception/],
  ['opencv-nomem', 'E_NATIVE_OOM', /OpenCV out of memory/],
  ['torch', 'E_NATIVE_TORCH', /test: a c10::Error/],
  ['bad_alloc', 'E_NATIVE_OOM', /bad_alloc/],
  ['std', 'E_NATIVE_UNKNOWN', /test: a std::exception/],
  ['unknown', 'E_NATIVE_UNKNOWN', /unknown native exception/],
] as const;

test('each native exception family becomes its coded error, and the addon keeps working', () => {
  const addon = nativeAddon();
  for (const [kind, code, message] of CASES) {
    assert.throws(
      () => addon.throwForTest(kind),
      (e: Error & { code?: string }) => e.code === code && message.test(e.message),
      kind,
    );
  }
  assert.throws(() => addon.throwForTest('nope' as never), { code: 'E_NATIVE_ARG' });
  // still alive and usable after every throw
  assert.ok(addon.engineInfo().torchVersion.length > 0);
});
