/**
 * The viewer and both reader studies in headless chromium on a small real run: list sorting and filter, slice
 * scrolling, windows, overlays and zoom from the keyboard; both studies with their keys, back, a kill -9 of the
 * server that loses no acknowledged answer, resume after the restart; then the database and the study report.
 * Screenshots for docs/ are taken here (RECIST3D_UPDATE_SCREENSHOTS=1 writes them into docs/img).
 */
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { registerStudy } from '../../src/cli/commands/study.js';
import { runCli } from '../helpers/cli.js';
import {
  browserSkipReason,
  launchBrowser,
  makeSmallRun,
  screenshotDir,
  startServe,
  stopServe,
  type ServerProcess,
} from './harness.js';

const skip = browserSkipReason();
let dir: string;
let runDir: string;
let server: ServerProcess;
let browser: BrowserContext;
let page: Page;
let shots: string;

async function restart(port: number): Promise<void> {
  server = await startServe(['--run', runDir, '--port', String(port)]);
}

/** Presses an answer key and waits for the server's acknowledgement and the next screen. */
async function press(key: string, position: number, answer: string): Promise<void> {
  await page.keyboard.press(key);
  await page.waitForFunction(
    ([p, a]) => document.querySelector('.study-page')?.getAttribute('data-last-ack') === `${p}:${a}`,
    [position, answer] as const,
  );
  await page.waitForFunction(
    (p) => document.querySelector('.study-page')?.getAttribute('data-position') === String(p + 1),
    position,
  );
}

/** Opens a study, signs in as `reader` and waits for the first screen; returns its number of screens. */
async function startStudy(kind: string, reader: string): Promise<number> {
  await page.goto(server.url + `#/study/${kind}`);
  await page.fill('#reader', reader);
  await page.keyboard.press('Enter');
  const study = page.locator('.study-page[data-total]');
  await study.waitFor();
  await page.locator('.slice-view').nth(1).waitFor();
  return Number(await study.getAttribute('data-total'));
}

const ready = (p: Page) => p.waitForFunction(() => document.body.dataset.ready === 'true');
const sliceOf = (p: Page) => p.locator('.slice-view').first().getAttribute('data-slice');

describe('recist3d serve in chromium', { skip }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recist3d-e2e-'));
    shots = screenshotDir(dir);
    ({ runDir } = makeSmallRun(dir, 4));
    server = await startServe(['--run', runDir, '--port', '0']);
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    if (server) await stopServe(server);
    await rm(dir, { recursive: true, force: true });
  });

  test('prints its URL: loopback, no token', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('cohort list: every lesion, sort by any column, filter', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#lesions tbody tr');
    const csv = (await readFile(join(runDir, 'lesions.csv'), 'utf8')).trim().split('\n');
    assert.equal(await page.locator('#lesions tbody tr').count(), csv.length - 1);
    const volumes = async () =>
      (await page.locator('#lesions tbody tr td:nth-child(4)').allTextContents()).map((t) =>
        Number(t.replace(/,/g, '')),
      );
    await page.click('th[data-key="volumeMm3"]');
    const up = await volumes();
    assert.deepEqual(
      up,
      [...up].sort((a, b) => a - b),
      'ascending by volume',
    );
    await page.click('th[data-key="volumeMm3"]');
    const down = await volumes();
    assert.deepEqual(down, [...up].reverse(), 'descending on the second click');
    await page.click('th[data-key="dice3d"]');
    const dice = (await page.locator('#lesions tbody tr td:nth-child(7)').allTextContents()).map(Number);
    assert.deepEqual(
      dice,
      [...dice].sort((a, b) => a - b),
    );
    const category = (await page.locator('#lesions tbody tr td:nth-child(2)').first().textContent())!;
    const expected = csv.slice(1).filter((l) => l.split(',')[3] === category).length;
    await page.fill('#filter', category);
    assert.equal(await page.locator('#lesions tbody tr').count(), expected);
    await page.screenshot({ path: join(shots, 'viewer-list.png') });
    await page.fill('#filter', '');
    await page.click('th[data-key="lesionId"]');
    assert.equal(await page.locator('th[data-key="lesionId"]').getAttribute('data-sort'), 'asc');
  });

  test('lesion view from the keyboard: open, scroll, windows, drag, overlays, zoom, next, back', async () => {
    await page.locator('#filter').press('Escape');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        location.hash.startsWith('#/lesion/') &&
        document.querySelector('.slice-view')?.getAttribute('data-slice'),
    );
    await ready(page);
    const id = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/lesion/'.length));
    const ids = (await readFile(join(runDir, 'lesions.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0])
      .sort();
    assert.equal(id, ids[1], 'j moved to the second row');
    const view = page.locator('.slice-view').first();
    const k0 = Number(await sliceOf(page));
    const before = await view.screenshot();
    await page.keyboard.press('ArrowUp');
    assert.equal(Number(await sliceOf(page)), k0 + 1);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(Number(await sliceOf(page)), k0 - 1);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('1');
    assert.equal(await view.getAttribute('data-window'), '-1350,150', 'lung W1500 L-600');
    const lung = await view.screenshot();
    assert.notDeepEqual(lung, before, 'the window changed the rendered pixels');
    await page.keyboard.press('4');
    assert.equal(await view.getAttribute('data-window'), '-45,105', 'liver W150 L30');
    const box = (await view.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 50, box.y + box.height / 2 - 20);
    await page.mouse.up();
    const [lo, hi] = (await view.getAttribute('data-window'))!.split(',').map(Number);
    assert.equal(hi - lo, 150 + 4 * 50, 'drag right widens the window');
    assert.equal((lo + hi) / 2, 30 + 2 * 20, 'drag up raises the level');
    await page.keyboard.press('2');
    assert.equal(await view.getAttribute('data-zoomed'), 'true', 'zoomed to the ROI by default');
    await page.screenshot({ path: join(shots, 'viewer-lesion.png') });
    const withOverlays = await view.screenshot();
    for (const k of ['r', 'm', 't']) await page.keyboard.press(k);
    assert.equal(await page.locator('button[data-toggle].on').count(), 0, 'three overlays off');
    assert.notDeepEqual(await view.screenshot(), withOverlays, 'hiding the overlays changed the pixels');
    for (const k of ['r', 'm', 't']) await page.keyboard.press(k);
    await page.keyboard.press('z');
    assert.equal(await view.getAttribute('data-zoomed'), 'false');
    await page.keyboard.press('z');
    await page.keyboard.press('n');
    await page.waitForFunction((prev) => decodeURIComponent(location.hash) !== `#/lesion/${prev}`, id);
    assert.equal(decodeURIComponent(await page.evaluate(() => location.hash)), `#/lesion/${ids[2]}`);
    await page.keyboard.press('h');
    assert.ok(await page.locator('#help').isVisible());
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#lesions tbody tr');
  });

  test('unknown lesion ids and traversal attempts show an error, not a file', async () => {
    const r = await page.request.get(new URL('/api/lesions/..%2F..%2Fetc%2Fpasswd/ct.nii', server.url).href);
    assert.equal(r.status(), 404);
    assert.equal((await r.json()).error.code, 'E_NOT_FOUND');
  });

  test('acceptance study: f/j, back, kill -9 loses no acknowledged answer, resume after restart', async () => {
    const total = await startStudy('acceptance', 'alice');
    assert.equal(total, 8, 'the automatic and the manual mask of 4 lesions');
    await page.screenshot({ path: join(shots, 'study-acceptance.png') });
    await press('f', 0, 'accept');
    await press('j', 1, 'reject');
    await press('f', 2, 'accept');
    // back to screen 2: the earlier answer is shown and can be changed
    await page.keyboard.press(',');
    await page.waitForFunction(
      () => document.querySelector('.study-page')?.getAttribute('data-position') === '2',
    );
    assert.match((await page.locator('#study-status').textContent())!, /your answer: accept/);
    await press('j', 2, 'reject');
    // the page has its acknowledgement: kill the server at once
    await stopServe(server, 'SIGKILL');
    const db = new Database(join(runDir, 'study.sqlite'), { readonly: true });
    const rows = db
      .prepare(
        "SELECT position, answer FROM answers WHERE reader = 'alice' AND kind = 'acceptance' ORDER BY position",
      )
      .all();
    const log = db.prepare("SELECT COUNT(*) AS n FROM answer_log WHERE reader = 'alice'").get() as {
      n: number;
    };
    db.close();
    assert.deepEqual(rows, [
      { position: 0, answer: 'accept' },
      { position: 1, answer: 'reject' },
      { position: 2, answer: 'reject' },
    ]);
    assert.equal(log.n, 4, 'the changed answer is kept in the log');
    // an answer while the server is down is not acknowledged, and the page says so
    await page.keyboard.press('f');
    await page.waitForFunction(() =>
      /not saved/.test(document.querySelector('#study-status')?.textContent ?? ''),
    );
    await restart(server.port);
    await page.goto(server.url + '#/study/acceptance');
    await page.reload();
    await page.fill('#reader', 'alice');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => document.querySelector('.study-page')?.getAttribute('data-position') === '3',
    );
    for (let p = 3; p < total; p++) await press(p % 2 ? 'j' : 'f', p, p % 2 ? 'reject' : 'accept');
    await page.waitForSelector('#study-done');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#lesions tbody tr');
  });

  test('readers are kept apart: another reader gets an order of their own', async () => {
    await page.goto(server.url + '#/study/acceptance');
    await page.fill('#reader', 'bob');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => document.querySelector('.study-page')?.getAttribute('data-position') === '0',
    );
    await page.keyboard.press('f');
    await page.waitForFunction(
      () => document.querySelector('.study-page')?.getAttribute('data-last-ack') === '0:accept',
    );
    const db = new Database(join(runDir, 'study.sqlite'), { readonly: true });
    const order = (r: string) =>
      db
        .prepare(
          "SELECT lesion_id || ':' || shown AS x FROM plan WHERE reader = ? AND kind = 'acceptance' ORDER BY position",
        )
        .all(r)
        .map((x) => (x as { x: string }).x);
    const [a, b] = [order('alice'), order('bob')];
    db.close();
    assert.deepEqual([...a].sort(), [...b].sort(), 'same screens');
    assert.notDeepEqual(a, b, 'in another order');
  });

  test('comparison study: f/j/b/n, then the database and the study report agree', async () => {
    const total = await startStudy('comparison', 'alice');
    assert.equal(total, 4, 'every lesion has both masks');
    await page.screenshot({ path: join(shots, 'study-comparison.png') });
    const keys = ['f', 'j', 'b', 'n'];
    const answers = ['left', 'right', 'both', 'neither'];
    for (let p = 0; p < total; p++) await press(keys[p], p, answers[p]);
    await page.waitForSelector('#study-done');
    const db = new Database(join(runDir, 'study.sqlite'), { readonly: true });
    const rows = db
      .prepare(
        "SELECT answer, shown FROM answers WHERE reader = 'alice' AND kind = 'comparison' ORDER BY position",
      )
      .all() as { answer: string; shown: string }[];
    db.close();
    assert.deepEqual(
      rows.map((r) => r.answer),
      answers,
    );
    const preferredAuto = rows.filter(
      (r) =>
        (r.answer === 'left' && r.shown.startsWith('auto')) ||
        (r.answer === 'right' && r.shown.endsWith('auto')),
    ).length;
    const out = await runCli(registerStudy, ['study', 'report', '--run', runDir]);
    const json = JSON.parse(await readFile(join(runDir, 'study-report.json'), 'utf8'));
    assert.deepEqual(json.readers, ['alice', 'bob']);
    const c = json.comparison.perReader.alice.overall;
    assert.deepEqual(c, {
      autoPreferred: preferredAuto,
      both: 1,
      manualPreferred: 2 - preferredAuto,
      neither: 1,
      total: 4,
    });
    const db2 = new Database(join(runDir, 'study.sqlite'), { readonly: true });
    const acceptRows = db2
      .prepare("SELECT reader, answer, shown FROM answers WHERE kind = 'acceptance'")
      .all() as { reader: string; answer: string; shown: string }[];
    db2.close();
    for (const method of ['auto', 'manual']) {
      const mine = acceptRows.filter((r) => r.reader === 'alice' && r.shown === method);
      const got = json.acceptance.perReader.alice.overall[method];
      assert.equal(got.total, mine.length, `${method} screens answered by alice`);
      assert.equal(
        got.accepted,
        mine.filter((r) => r.answer === 'accept').length,
        `${method} accepted by alice`,
      );
      const pooled = acceptRows.filter((r) => r.shown === method);
      assert.equal(
        json.acceptance.pooled.overall[method].total,
        pooled.length,
        `${method} pooled over alice and bob`,
      );
    }
    assert.match(out, /Acceptance study/);
    assert.match(out, /automatic preferred \| both acceptable \| manual preferred \| neither/);
    assert.ok((await stat(join(runDir, 'study-report.md'))).size > 0);
  });
});
