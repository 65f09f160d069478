import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { registerSynth } from '../src/cli/commands/synth.js';
import { registerTrack } from '../src/cli/commands/track.js';
import { runCli } from './helpers/cli.js';

test('track pairs phantom follow-ups, writes into a new --out folder, and scores truth-as-prediction R² = 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-track-'));
  try {
    await runCli(registerSynth, [
      'synth',
      '--out',
      dir,
      '--lesions',
      '12',
      '--seed',
      '3',
      '--follow-up',
      '1',
    ]);
    const out = join(dir, 'not', 'yet', 'there');
    const stdout = await runCli(registerTrack, [
      'track',
      '--manifest',
      join(dir, 'manifest.csv'),
      '--pred',
      join(dir, 'masks'),
      '--out',
      out,
    ]);
    assert.match(stdout, /track\.csv/);
    const res = JSON.parse(await readFile(join(out, 'track.json'), 'utf8')) as {
      pairs: { truth?: [number, number]; predicted: [number, number] }[];
      r2Predicted: number;
      r2Ellipsoid: number;
    };
    assert.ok(res.pairs.length >= 3, `${res.pairs.length} pairs`);
    for (const p of res.pairs)
      assert.deepEqual(p.predicted, p.truth, 'the truth masks were given as predictions');
    assert.ok(Math.abs(res.r2Predicted - 1) < 1e-9, `R² of truth against truth ${res.r2Predicted}`);
    // Non-uniform growth: the ellipsoid no longer follows the true change exactly.
    assert.ok(res.r2Ellipsoid < 0.999, `ellipsoid R² ${res.r2Ellipsoid}`);
    assert.ok(existsSync(join(out, 'track.csv')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
