import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { csvText } from '../../io/csv.js';
import { loadManifest } from '../../io/manifest.js';
import { METRIC_NAMES, formatMetricsTable } from '../../metrics/aggregate.js';
import { evaluateCohort } from '../../metrics/evaluate.js';
import { createProgress } from '../progress.js';
import { requireFolder } from '../../io/file-access.js';
import { claimOutDir } from '../../util/out-dir.js';

interface EvalOpts {
  manifest: string;
  pred: string;
  slice: string;
  out?: string;
  avd: string;
  strict?: boolean;
}

/** `recist3d eval`: Dice, precision, recall, VS and AVD of predicted masks against the manifest's masks. */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('score predicted masks (<lesion_id>.nii.gz) against the reference masks of a manifest')
    .requiredOption('--manifest <csv>', 'lesion manifest with a mask column (docs/manifest.md)')
    .requiredOption('--pred <dir>', 'folder of predicted masks, one <lesion_id>.nii.gz per lesion')
    .option('--slice <which>', "'key': the RECIST slice only (2D); 'all': the whole volume (3D)", 'key')
    .option('--avd <points>', "AVD point set: 'surface' or 'all' voxels", 'surface')
    .option('--out <dir>', 'where eval-<slice>.csv and eval-<slice>.json go (default: the --pred folder)')
    .option('--strict', 'exit with status 1 when any lesion could not be scored')
    .action(async (opts: EvalOpts) => {
      if (opts.slice !== 'key' && opts.slice !== 'all') {
        throw new Recist3dError('E_USAGE', `Expected key or all for --slice but received "${opts.slice}"`);
      }
      if (opts.avd !== 'surface' && opts.avd !== 'all') {
        throw new Recist3dError('E_USAGE', `Expected surface or all for --avd but received "${opts.avd}"`);
      }
      const predDir = await requireFolder(resolve(opts.pred), '--pred');
      await using outDir = await claimOutDir(opts.out ?? predDir, {
        command: 'eval',
        option: opts.out ? '--out' : '--out (default: the --pred folder)',
      });
      const records = await loadManifest(resolve(opts.manifest), { checkFiles: false });
      const progress = createProgress('eval', records.length);
      const res = await evaluateCohort(
        records,
        predDir,
        { slice: opts.slice, avdPointSet: opts.avd },
        (row) => progress.increment(1, row.status === 'ok' ? row.lesionId : `${row.lesionId} ${row.status}`),
      );
      progress.stop();
      const notScored = res.rows.filter((r) => r.status !== 'ok');
      for (const r of notScored)
        process.stderr.write(`recist3d: lesion ${r.lesionId} not scored (${r.status}): ${r.message}\n`);
      process.stdout.write(
        `Scored ${res.counts.ok} of ${records.length} lesions on ${opts.slice === 'key' ? 'the RECIST slice' : 'the whole volume'}\n`,
      );
      process.stdout.write(`${formatMetricsTable(res.report)}\n`);
      if (notScored.length > 0) {
        const parts = Object.entries(res.counts)
          .filter(([k, v]) => k !== 'ok' && v > 0)
          .map(([k, v]) => `${v} ${k}`);
        process.stdout.write(
          `WARNING: ${notScored.length} lesion(s) not scored (${parts.join(', ')}); see stderr and the CSV\n`,
        );
      }
      const csvPath = join(outDir.path, `eval-${opts.slice}.csv`);
      const jsonPath = join(outDir.path, `eval-${opts.slice}.json`);
      const header = ['lesion_id', 'category', 'status', 'message', ...METRIC_NAMES, 'tp', 'fp', 'fn'];
      const rows = res.rows.map((r) => {
        const m = r.metrics;
        const vals = m ? [...METRIC_NAMES.map((k) => m[k]), m.tp, m.fp, m.fn] : header.slice(4).map(() => '');
        return [r.lesionId, r.category, r.status, r.message, ...vals];
      });
      await writeFile(csvPath, csvText(header, rows));
      const json = {
        manifest: resolve(opts.manifest),
        pred: predDir,
        slice: opts.slice,
        avdPointSet: opts.avd,
        date: new Date().toISOString(),
        counts: res.counts,
        report: res.report,
        rows: res.rows,
      };
      // JSON has no Infinity: write it as null (the AVD of an empty prediction)
      await writeFile(
        jsonPath,
        JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1),
      );
      process.stdout.write(`Per-lesion scores in ${csvPath} and ${jsonPath}\n`);
      if (opts.strict && notScored.length > 0) process.exitCode = 1;
    });
}
