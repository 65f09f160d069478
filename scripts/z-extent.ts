/**
 * How deep lesions are in z compared with their RECIST axes: for every manifest row with a mask, the
 * z extent of the mask (whole slices x slice spacing) over the RECIST long axis L and short axis W; prints
 * median and quartiles. Used to check the Pythagorean rule's L/2 radius (docs/results-3d.md).
 *
 *   npx tsx scripts/z-extent.ts --manifest /tmp/lidc/manifest.csv
 */
import { parseArgs } from 'node:util';
import { loadManifest } from '../src/io/manifest.js';
import { readNifti } from '../src/io/nifti.js';
import { segmentLengthMm } from '../src/recist/parse.js';

const { values: a } = parseArgs({ options: { manifest: { type: 'string' } } });
if (!a.manifest) throw new Error('usage: z-extent.ts --manifest M');
const overL: number[] = [];
const overW: number[] = [];
for (const r of await loadManifest(a.manifest)) {
  if (!r.maskPath) continue;
  const t = await readNifti(r.maskPath);
  const [w, h, d] = t.size;
  let first = -1;
  let last = -1;
  for (let k = 0; k < d; k++) {
    if (!t.data.subarray(k * w * h, (k + 1) * w * h).some((v) => v > 0)) continue;
    if (first < 0) first = k;
    last = k;
  }
  if (first < 0) continue;
  const zMm = (last - first + 1) * t.spacingMm[2];
  overL.push(zMm / segmentLengthMm(r.recist.long[0], r.recist.long[1], t.spacingMm));
  overW.push(zMm / segmentLengthMm(r.recist.short[0], r.recist.short[1], t.spacingMm));
}
const q = (v: number[], p: number) => [...v].sort((x, y) => x - y)[Math.floor((v.length - 1) * p)].toFixed(2);
for (const [name, v] of [
  ['L', overL],
  ['W', overW],
] as const) {
  console.log(
    `z extent / ${name}: median ${q(v, 0.5)}, quartiles ${q(v, 0.25)}-${q(v, 0.75)} (${v.length} lesions)`,
  );
}
