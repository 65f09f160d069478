import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { addRunOptions, runOptionsFrom, type RunOpts } from './run.js';

const parse = (args: string[]): RunOpts => {
  const cmd = addRunOptions(new Command().exitOverride());
  cmd.parse(args, { from: 'user' });
  return cmd.opts<RunOpts>();
};

test('run options: the segmentation rules and the input context reach the pipeline options', () => {
  const d = runOptionsFrom(parse([]));
  assert.equal(d.segment?.endConfidence, 0.9);
  assert.equal(d.segment?.zExtent, 1);
  assert.equal('context' in (d.net ?? {}), false, 'no context key by default, so earlier runs still resume');
  const o = runOptionsFrom(parse(['--end-confidence', '0', '--context', '1']));
  assert.equal(o.segment?.endConfidence, 0);
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
