import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadManifest } from '../../io/manifest.js';
import { csvText } from '../../io/csv.js';
import { lineChart } from '../../report/svg.js';
import { relativeChange, trackCohort } from '../../pipeline/track.js';
import { requireFolder } from '../../io/file-access.js';
import { claimOutDir } from '../../util/out-dir.js';

/** `recist3d track`: volume change of follow-up pairs from the 3D masks against the RECIST ellipsoid. */
export function registerTrack(program: Command): void {
  program
    .command('track')
    .description(
      'pair lesions across studies (patient_id, study_date) and compare mask vs RECIST-ellipsoid volume change',
    )
    .requiredOption('--manifest <csv>', 'lesion manifest with patient_id and study_date (track_id optional)')
    .requiredOption('--pred <dir>', 'folder with predicted masks (a run folder or its masks/ folder)')
    .option('--out <dir>', 'where track.csv, track.json and track.svg go (default: --pred)')
    .action(async (opts: { manifest: string; pred: string; out?: string }) => {
      const predDir = await requireFolder(resolve(opts.pred), '--pred');
      await using outDir = await claimOutDir(opts.out ?? predDir, {
        command: 'track',
        option: opts.out ? '--out' : '--out (default: the --pred folder)',
      });
      const out = outDir.path;
      const records = await loadManifest(resolve(opts.manifest));
      const res = await trackCohort(records, predDir);
      const pct = (v: [number, number] | undefined) => (v ? (100 * relativeChange(v)).toFixed(1) : '');
      const header = [
        'patient_id',
        'track',
        'baseline',
        'follow_up',
        'date0',
        'date1',
        'mask_mm3_0',
        'mask_mm3_1',
        'mask_change_pct',
        'ellipsoid_change_pct',
        'truth_change_pct',
        'status',
        'error',
      ];
      const rows = res.pairs.map((p) => [
        p.patientId,
        p.track,
        p.baseline,
        p.followUp,
        ...p.dates,
        p.predicted[0].toFixed(1),
        p.predicted[1].toFixed(1),
        pct(p.predicted),
        pct(p.ellipsoid),
        pct(p.truth),
        'ok',
        '',
      ]);
      // failed pairs are listed too, with why, so the table accounts for every pair
      for (const f of res.failed)
        rows.push([
          f.patientId,
          f.track,
          f.baseline,
          f.followUp,
          ...f.dates,
          '',
          '',
          '',
          '',
          '',
          'failed',
          `${f.code}: ${f.message}`,
        ]);
      await writeFile(join(out, 'track.csv'), csvText(header, rows));
      await writeFile(
        join(out, 'track.json'),
        JSON.stringify(res, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1),
      );
      const withTruth = res.pairs.filter((p) => p.truth);
      if (withTruth.length) {
        const pts = (f: (p: (typeof withTruth)[number]) => [number, number]) =>
          withTruth.map(
            (p) => [100 * relativeChange(p.truth!), 100 * relativeChange(f(p))] as [number, number],
          );
        const svg = lineChart(
          [
            {
              name: `3D mask (R² = ${res.r2Predicted.toFixed(2)})`,
              scatter: true,
              points: pts((p) => p.predicted),
            },
            {
              name: `RECIST ellipsoid (R² = ${res.r2Ellipsoid.toFixed(2)})`,
              scatter: true,
              points: pts((p) => p.ellipsoid),
            },
          ],
          {
            title: 'Volume change at follow-up (Figure 7)',
            xLabel: 'true volume change (%)',
            yLabel: 'measured volume change (%)',
            identity: true,
          },
        );
        await writeFile(join(out, 'track.svg'), svg);
      }
      for (const f of res.failed)
        process.stderr.write(
          `recist3d: pair ${f.baseline} -> ${f.followUp} failed: ${f.code} ${f.message}\n`,
        );
      const why = res.unpairedBecause;
      const hint =
        res.pairs.length + res.failed.length === 0 && records.length > 0
          ? `No pairs: pairing needs patient_id and study_date on each row (${why.noPatientId} lesion(s) have no patient_id, ` +
            `${why.noStudyDate} no study_date) and two studies of one track (${why.singleStudy} lesion(s) have one study only); see docs/manifest.md\n`
          : '';
      process.stdout.write(
        `${res.pairs.length} follow-up pair(s), ${res.failed.length} failed, ${res.unpaired.length} unpaired lesion(s)\n` +
          hint +
          (withTruth.length
            ? `R² against the true volume change: 3D masks ${res.r2Predicted.toFixed(3)}, RECIST ellipsoid ${res.r2Ellipsoid.toFixed(3)} (${withTruth.length} pairs)\n`
            : 'No ground-truth masks: no R².\n') +
          `Wrote ${join(out, 'track.csv')}\n`,
      );
    });
}
