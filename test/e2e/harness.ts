/**
 * Browser-test harness: a small real run (synth + a 2-epoch run), `recist3d serve` as a child process (so a
 * test can kill -9 it), and Debian's chromium driven by playwright-core (never a downloaded browser).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CLI, ROOT, spawnCli } from '../helpers/spawn-cli.js';

export { ROOT };
export const CHROMIUM = process.env.RECIST3D_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined. */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM))
    return `chromium not found at ${CHROMIUM} (bash scripts/setup.sh --browser installs it)`;
  if (!existsSync(join(ROOT, 'dist/web/index.html'))) return 'the web app is not built (npm run setup)';
  return undefined;
}

function cli(args: string[]): void {
  const r = spawnCli(args);
  if (r.status !== 0) throw new Error(`recist3d ${args[0]} failed: ${r.stderr}`);
}

/** A phantom cohort of `lesions` studies with truth masks and a quick run on it (about 30 s on 2 cores). */
export function makeSmallRun(dir: string, lesions = 5): { runDir: string; manifest: string } {
  const manifest = join(dir, 'cohort', 'manifest.csv');
  const runDir = join(dir, 'run');
  cli(['synth', '--out', join(dir, 'cohort'), '--lesions', String(lesions), '--seed', '2']);
  cli([
    'run',
    '--manifest',
    manifest,
    '--out',
    runDir,
    '--rounds',
    '0',
    '--epochs',
    '2',
    '--roi-size',
    '32',
    '--base-width',
    '8',
    '--arch',
    'unet',
  ]);
  return { runDir, manifest };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Milliseconds from spawn to the printed URL. */
  startMs: number;
  stderr: () => string;
}

/** Starts `recist3d serve` and resolves with the URL it prints. */
export function startServe(args: string[]): Promise<ServerProcess> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...CLI, 'serve', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(/^(http:\/\/\S+)\n/);
      if (m)
        ok({
          child,
          url: m[1],
          port: Number(new URL(m[1]).port),
          startMs: performance.now() - t0,
          stderr: () => err,
        });
    });
    child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
  });
}

export async function stopServe(s: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill(signal);
  await exited;
}

/** Headless Debian chromium with a fresh profile; WebGL runs on SwiftShader (no GPU). */
export function launchBrowser(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'recist3d-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where screenshots go: docs/img with RECIST3D_UPDATE_SCREENSHOTS=1, else `fallback` (a temp folder). */
export function screenshotDir(fallback: string): string {
  return process.env.RECIST3D_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'img') : fallback;
}
