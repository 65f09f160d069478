/**
 * Viewer benchmark: on a finished run (377 lesions in the documented command), the time from opening a lesion
 * to its first rendered slice and from one slice to the next, in Debian's headless chromium (WebGL on
 * SwiftShader: no GPU), medians over lesions. Targets: < 300 ms and < 50 ms.
 *
 * Peer, measured in the same page and run: plain NiiVue as a user would call it, `loadVolumes` on the
 * lesion's whole source NIfTI and its own slice step (no server-cut slab, no contours).
 *
 *   npx tsx bench/viewer/run.ts --run /tmp/bench377/run [--manifest M] [--lesions 40] [--slices 20]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startServer } from '../../src/serve/server.js';
import { launchBrowser } from '../../test/e2e/harness.js';

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    manifest: { type: 'string' },
    lesions: { type: 'string', default: '40' },
    slices: { type: 'string', default: '20' },
  },
});
if (!values.run) throw new Error('--run DIR is required (a finished run folder)');
const nLesions = Number(values.lesions);
const nSlices = Number(values.slices);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `recist3d serve` from the built CLI (dist/), spawn to printed URL, in ms. */
async function cliStartMs(): Promise<number> {
  const t = performance.now();
  const args = ['dist/cli/main.js', 'serve', '--run', values.run!, '--port', '0'];
  if (values.manifest) args.push('--manifest', values.manifest);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((ok, fail) => {
    child.stdout.on('data', (d) => String(d).includes('http://') && ok());
    child.once('exit', (c) => fail(new Error(`serve exited with ${c}`)));
  });
  const ms = performance.now() - t;
  child.kill();
  return ms;
}
const cliStart: number[] = [];
for (let i = 0; i < 3; i++) cliStart.push(await cliStartMs());

const t0 = performance.now();
const server = await startServer(values.run, {
  port: 0,
  ...(values.manifest ? { manifest: values.manifest } : {}),
});
const startMs = performance.now() - t0;
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(server.url + '?timing=1#/');
  await page.waitForSelector('#lesions tbody tr');
  const ok = server.index.lesions.filter((l) => l.info.status === 'ok' && l.files.image);
  // spread over the list, cold (never opened, not prefetched: every other one of a stride)
  const stride = Math.max(2, Math.floor(ok.length / nLesions));
  const chosen = ok.filter((_, i) => i % stride === 0).slice(0, nLesions);
  const entries = () =>
    page.evaluate(() =>
      (window as unknown as { __recist3dTimings: { what: string; ms: number }[] }).__recist3dTimings.slice(),
    );
  /** Waits for a timing entry `what` recorded after the first `before` ones and returns its ms. */
  const entryAfter = async (what: string, before: number): Promise<number> => {
    await page.waitForFunction(
      ([n, w]) =>
        (window as unknown as { __recist3dTimings: { what: string }[] }).__recist3dTimings
          .slice(n)
          .some((e) => e.what === w),
      [before, what] as const,
    );
    return (await entries()).slice(before).find((e) => e.what === what)!.ms;
  };
  /** Opens a lesion with `act` and returns [data in the page, first slice drawn] in ms. */
  const timeOpen = async (act: () => Promise<unknown>): Promise<[number, number]> => {
    const before = (await entries()).length;
    await act();
    const first = await entryAfter('open-lesion', before);
    return [await entryAfter('open-data', before), first];
  };
  const open: number[] = [];
  const openData: number[] = [];
  const openWhole: number[] = [];
  const openWarm: number[] = [];
  const slice: number[] = [];
  const peerFirst: number[] = [];
  const peerNext: number[] = [];
  for (const l of chosen) {
    const before = (await entries()).length;
    const [data, first] = await timeOpen(() =>
      page.evaluate(
        (id) => (window as unknown as { __recist3dOpen: (id: string) => void }).__recist3dOpen(id),
        l.info.lesionId,
      ),
    );
    openData.push(data);
    open.push(first);
    for (let s = 0; s < nSlices; s++) await page.keyboard.press(s < nSlices / 2 ? 'ArrowUp' : 'ArrowDown');
    const after = (await entries()).slice(before).filter((e) => e.what === 'next-slice');
    // the whole slab, swapped in after the first slice (until then the slices scroll within the thin slab;
    // the slice steps above start at once, as a user's may)
    openWhole.push(await entryAfter('open-whole', before));
    slice.push(...after.map((e) => e.ms));
    // the next lesion in the list was prefetched while this one was shown: a warm open
    openWarm.push((await timeOpen(() => page.keyboard.press('n')))[1]);
    const name = l.files.image!.endsWith('.gz') ? 'image.nii.gz' : 'image.nii';
    const [f, n] = await page.evaluate(
      ([id, nm]) =>
        (
          window as unknown as { __recist3dPeer: (id: string, n: string) => Promise<[number, number]> }
        ).__recist3dPeer(id, nm),
      [l.info.lesionId, name] as const,
    );
    peerFirst.push(f);
    peerNext.push(n);
  }
  const line = (what: string, ours: number[], target: number, peer?: number[]) =>
    `${what.padEnd(34)} ${median(ours).toFixed(1).padStart(7)} ms  (target < ${target} ms: ${median(ours) < target ? 'met' : 'NOT met'})` +
    (peer
      ? `   plain NiiVue ${median(peer).toFixed(1).padStart(7)} ms, ratio ours/peer ${(median(ours) / median(peer)).toFixed(2)}`
      : '');
  console.log(
    `run ${server.index.runDir}: ${server.index.lesions.length} lesions; ${chosen.length} opened, ${slice.length} slice steps`,
  );
  console.log(
    `recist3d serve (dist/) spawn to printed URL: median ${median(cliStart).toFixed(0)} ms of 3 (target < 2000 ms); in-process start ${startMs.toFixed(0)} ms`,
  );
  console.log(line('open lesion -> first slice (cold)', open, 300, peerFirst));
  console.log(
    `  of which its data in the page (server read + cut + transfer): median ${median(openData).toFixed(1)} ms;` +
      ` its whole slab drawn (every slice reachable): median ${median(openWhole).toFixed(1)} ms`,
  );
  console.log(line('open next lesion (prefetched)', openWarm, 300));
  console.log(line('slice -> next slice', slice, 50, peerNext));
  console.log(
    `p90: open ${[...open].sort((a, b) => a - b)[Math.floor(open.length * 0.9)].toFixed(1)} ms, slice ${[...slice].sort((a, b) => a - b)[Math.floor(slice.length * 0.9)].toFixed(1)} ms`,
  );
} finally {
  await browser.close();
  await server.close();
}
