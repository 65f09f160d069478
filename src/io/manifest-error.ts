import { Recist3dError } from '../errors.js';

/** One problem found in one manifest row. */
export interface ManifestIssue {
  /** 1-based CSV line (header = 1). */
  row: number;
  field: string;
  reason: string;
}

/** E_MANIFEST_INVALID with every bad row listed in `issues` (and in the message). */
export class ManifestError extends Recist3dError {
  readonly issues: ManifestIssue[];
  constructor(file: string, issues: ManifestIssue[]) {
    const lines = issues.slice(0, 50).map((i) => `  row ${i.row}, field ${i.field}: ${i.reason}`);
    if (issues.length > 50) lines.push(`  ... and ${issues.length - 50} more (see error.issues)`);
    super(
      'E_MANIFEST_INVALID',
      `${issues.length} problem(s) in the lesion manifest:\n${lines.join('\n')}\n`,
      {
        file,
      },
    );
    this.name = 'ManifestError';
    this.issues = issues;
  }
}
