/**
 * Harvested training labels of one self-paced round, stored as one binary file plus a JSON index, written
 * atomically: `<base>.bin` holds, per sample, the target (n*n bytes, 0/1) then the weight (n*n bytes, 0/1);
 * `<base>.json` lists which lesion and slice each sample belongs to and how its label was made.
 */
import { readFile } from 'node:fs/promises';
import { Recist3dError } from '../errors.js';
import type { HarvestedLabel, LabelSource } from '../types/label.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

interface LabelIndex {
  format: 'recist3d-labels-1';
  size: number;
  samples: { lesionId: string; k: number; offset: number; source: LabelSource }[];
}

export async function saveLabels(
  base: string,
  size: number,
  labels: readonly HarvestedLabel[],
): Promise<void> {
  const px = size * size;
  const bin = new Uint8Array(labels.length * 2 * px);
  labels.forEach((l, i) => {
    bin.set(l.y, 2 * i * px);
    bin.set(l.w, (2 * i + 1) * px);
  });
  await writeFileAtomic(`${base}.bin`, bin);
  const index: LabelIndex = {
    format: 'recist3d-labels-1',
    size,
    samples: labels.map(({ lesionId, k, offset, source }) => ({ lesionId, k, offset, source })),
  };
  await writeJsonAtomic(`${base}.json`, index);
}

export async function loadLabels(base: string): Promise<{ size: number; labels: HarvestedLabel[] }> {
  const index = await readJson<LabelIndex>(`${base}.json`);
  const bin = new Uint8Array(await readFile(`${base}.bin`));
  const px = index.size * index.size;
  if (index.format !== 'recist3d-labels-1' || bin.length !== index.samples.length * 2 * px) {
    throw new Recist3dError(
      'E_PIPELINE',
      `Label file ${base}.bin holds ${bin.length} bytes; its index expects ${index.samples.length * 2 * px}`,
      { file: `${base}.bin` },
    );
  }
  return {
    size: index.size,
    labels: index.samples.map((s, i) => ({
      ...s,
      y: bin.slice(2 * i * px, (2 * i + 1) * px),
      w: bin.slice((2 * i + 1) * px, (2 * i + 2) * px),
    })),
  };
}
