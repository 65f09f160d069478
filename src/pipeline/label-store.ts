/**
 * Harvested training labels of one self-paced round, stored as one binary file plus a JSON index, written
 * atomically: `<base>.bin` holds, per sample, the target (n*n bytes, 0/1) then the weight (n*n bytes, 0/1);
 * `<base>.json` lists which lesion and slice each sample belongs to and how its label was made. Labels that
 * carry the network's input (`x`, a distributed job's shards) also write `<base>.x.bin` (float32, `channels`
 * planes per sample).
 */
import { readFile } from 'node:fs/promises';
import { Recist3dError } from '../errors.js';
import type { HarvestedLabel, LabelSource } from '../types/label.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

interface LabelIndex {
  format: 'recist3d-labels-1';
  size: number;
  samples: { lesionId: string; k: number; offset: number; source: LabelSource }[];
  /** Input planes per sample in `<base>.x.bin` (absent: no inputs stored). */
  inputChannels?: number;
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
  const channels = inputChannelsOf(labels, px);
  if (channels) {
    const x = new Float32Array(labels.length * channels * px);
    labels.forEach((l, i) => x.set(l.x!, i * channels * px));
    await writeFileAtomic(`${base}.x.bin`, new Uint8Array(x.buffer));
  }
  const index: LabelIndex = {
    format: 'recist3d-labels-1',
    size,
    samples: labels.map(({ lesionId, k, offset, source }) => ({ lesionId, k, offset, source })),
    ...(channels ? { inputChannels: channels } : {}),
  };
  await writeJsonAtomic(`${base}.json`, index);
}

/** The input planes per label when every label carries its input `x` (0 when none or not all do). */
function inputChannelsOf(labels: readonly HarvestedLabel[], px: number): number {
  if (labels.length === 0 || !labels.every((l) => l.x)) return 0;
  const c = labels[0].x!.length / px;
  if (!Number.isInteger(c) || labels.some((l) => l.x!.length !== c * px)) {
    throw new Recist3dError('E_PIPELINE', `Labels carry network inputs of different sizes`);
  }
  return c;
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
  const c = index.inputChannels ?? 0;
  let x: Float32Array | undefined;
  if (c > 0) {
    const raw = await readFile(`${base}.x.bin`);
    if (raw.length !== index.samples.length * c * px * 4) {
      throw new Recist3dError(
        'E_PIPELINE',
        `Input file ${base}.x.bin holds ${raw.length} bytes; its index expects ${index.samples.length * c * px * 4}`,
        { file: `${base}.x.bin` },
      );
    }
    x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  }
  return {
    size: index.size,
    labels: index.samples.map((s, i) => ({
      ...s,
      y: bin.slice(2 * i * px, (2 * i + 1) * px),
      w: bin.slice((2 * i + 1) * px, (2 * i + 2) * px),
      ...(x ? { x: x.subarray(i * c * px, (i + 1) * c * px) } : {}),
    })),
  };
}
