import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { resolveWsssOptions } from '../../pipeline/wsss.js';
import { SEGMENT3D_DEFAULTS } from '../../steps/5-segment-3d.js';
import { resolveOptions } from '../../util/options.js';
import { addRunOptions, runOptionsFrom, type RunOpts } from './run.js';

const parse = (args: string[]): RunOpts => {
  const cmd = addRunOptions(new Command().exitOverride());
  cmd.parse(args, { from: 'user' });
  return cmd.opts<RunOpts>();
};

test('run options: no flag gives exactly the library defaults (defaults are stated once)', () => {
  const { segment, report, ...wsss } = runOptionsFrom(parse([]));
  assert.deepEqual(resolveWsssOptions(wsss), resolveWsssOptions({}));
  assert.deepEqual(resolveOptions(SEGMENT3D_DEFAULTS, segment ?? {}), SEGMENT3D_DEFAULTS);
  assert.equal(report, true);
});

test('run options: the segmentation rules and the input context reach the pipeline options', () => {
  const o = runOptionsFrom(parse(['--end-confidence', '0', '--context', '1', '--no-ring-exclusion']));
  assert.equal(o.segment?.endConfidence, 0);
  assert.equal(o.segment?.ringExclusion, null);
  assert.equal(o.net?.context, 1);
});

test('run options: out-of-range values are usage errors that name the option', () => {
  for (const [flag, value] of [
    ['--end-confidence', '1.5'],
    ['--end-confidence', 'NaN'],
    ['--context', '-1'],
    ['--context', '0.5'],
  ]) {
    assert.throws(
      () => runOptionsFrom(parse([flag, value])),
      (e: Error & { code?: string }) => e.code === 'E_USAGE' && e.message.includes(flag),
      `${flag} ${value}`,
    );
  }
});
