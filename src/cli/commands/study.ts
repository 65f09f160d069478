import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { parseCsvRows, readCsvFile } from '../../io/csv.js';
import { formatStudyReport } from '../../study/format-report.js';
import { studyReport } from '../../study/report.js';

/** `recist3d study report --run DIR`: the reader studies' results (stdout, study-report.md and .json). */
export function registerStudy(program: Command): void {
  const study = program.command('study').description('results of the reader studies run with recist3d serve');
  study
    .command('report')
    .description('acceptance rates per method and category, comparison counts, per reader and pooled')
    .requiredOption('--run <dir>', 'the run folder holding study.sqlite')
    .action(async (opts: { run: string }) => {
      const dir = resolve(opts.run);
      const dbPath = join(dir, 'study.sqlite');
      if (!existsSync(dbPath))
        throw new Recist3dError(
          'E_FILE_NOT_FOUND',
          'No reader study answers yet (start one with recist3d serve)',
          {
            file: dbPath,
          },
        );
      const csv = join(dir, 'lesions.csv');
      const { rows } = parseCsvRows(await readCsvFile(csv, 'lesions.csv not found'), csv, 'lesions');
      const categories = new Map(rows.map((r) => [r.record.lesion_id, r.record.category || 'unknown']));
      const { StudyDb } = await import('../../study/db.js');
      const db = new StudyDb(dbPath);
      let answers;
      try {
        answers = db.answers();
      } finally {
        db.close();
      }
      const report = studyReport(answers, (id) => categories.get(id) ?? 'unknown');
      const md = formatStudyReport(report, basename(dir));
      await writeFile(join(dir, 'study-report.md'), md + '\n');
      await writeFile(
        join(dir, 'study-report.json'),
        JSON.stringify({ run: dir, createdAt: new Date().toISOString(), ...report }, null, 2) + '\n',
      );
      process.stdout.write(md + `\nWritten: ${join(dir, 'study-report.md')} and study-report.json\n`);
    });
}
