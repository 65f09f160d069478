/**
 * Property-based fuzzing of the input readers (issue 13) with fast-check: NIfTI headers and bodies, lesion
 * manifests and DL_info rows are generated, valid and hostile alike, and each reader must either return a
 * result that keeps its invariants or throw a Recist3dError that names the file (and row and field where the
 * format has them). Anything else (a RangeError, a hang, a record with NaN in it) fails the property.
 *
 * Used by test/fuzz.test.ts (fixed seed, small budget, in `npm test`) and scripts/fuzz.ts (`npm run fuzz`).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { isRecist3dError } from '../../src/errors.js';
import { csvCell } from '../../src/io/csv.js';
import { DL_INFO_COLUMNS, parseDlInfoText, type DlInfoIssue } from '../../src/io/deeplesion.js';
import { MAX_LESION_ID_LENGTH, maskFileName } from '../../src/io/mask-file-name.js';
import {
  MANIFEST_COLUMNS,
  ManifestError,
  parseCategory,
  parseManifestText,
  type ManifestIssue,
} from '../../src/io/manifest.js';
import { readNifti, readNiftiHeader } from '../../src/io/nifti.js';
import { det3 } from '../../src/geometry/affine.js';
import { recistCrossingMissPx } from '../../src/recist/parse.js';
import { validateRecist } from '../../src/recist/validate.js';
import type { Recist } from '../../src/types/recist.js';

// ---------------------------------------------------------------- NIfTI

const VALID_TYPES: Record<number, number> = {
  2: 1,
  4: 2,
  8: 4,
  16: 4,
  64: 8,
  256: 1,
  512: 2,
  768: 4,
  1024: 8,
  1280: 8,
};

/** Mostly `good`, sometimes `bad`: with about 15 fields, about half of the generated files are valid. */
function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 24, arbitrary: good }, { weight: 1, arbitrary: bad });
}

/** Hostile floats. */
const wildFloat = fc.oneof(
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 3e38, -3e38, 1e-40),
);
const spacing = mostly(fc.double({ min: 0.1, max: 5, noNaN: true }), wildFloat);
const dim = mostly(
  fc.integer({ min: 1, max: 9 }),
  fc.oneof(fc.integer({ min: -5, max: 0 }), fc.integer({ min: 1000, max: 32767 })),
);
const finite = fc.double({ min: -500, max: 500, noNaN: true });

/** Everything a generated NIfTI file is made of. */
export interface NiftiCase {
  le: boolean;
  sizeofHdr: number;
  magic: string;
  dims: number[];
  datatype: number;
  pixdim: number[];
  voxOffset: number;
  slope: number;
  inter: number;
  qformCode: number;
  sformCode: number;
  quatern: number[];
  qoffset: number[];
  srow: number[] | 'from-pixdim' | 'singular';
  extension: number;
  body: 'exact' | 'short' | 'long';
  bodySeed: number;
  gzip: boolean;
  gzipCut: number;
}

export const niftiCase: fc.Arbitrary<NiftiCase> = fc.record({
  le: mostly(fc.constant(true), fc.constant(false)),
  sizeofHdr: mostly(fc.constant(348), fc.constantFrom(540, 0, 347, -348)),
  magic: mostly(fc.constant('n+1\0'), fc.constantFrom('ni1\0', 'n+2\0', 'xyz\0', '\0\0\0\0')),
  dims: fc.tuple(
    mostly(fc.constantFrom(3, 2), fc.integer({ min: -1, max: 9 })),
    dim,
    dim,
    dim,
    mostly(fc.constant(1), fc.integer({ min: -1, max: 3 })),
    fc.constant(1),
    fc.constant(1),
    fc.constant(1),
  ),
  datatype: mostly(
    fc.constantFrom(...Object.keys(VALID_TYPES).map(Number)),
    fc.integer({ min: -10, max: 3000 }),
  ),
  pixdim: fc.tuple(mostly(fc.constantFrom(1, -1), fc.constantFrom(0, Number.NaN)), spacing, spacing, spacing),
  voxOffset: mostly(
    fc.oneof(fc.constant(352), fc.integer({ min: 352, max: 1200 })),
    fc.constantFrom(Number.NaN, -352, 0, 10, 348, 352.5, Infinity, 1e30, 2 ** 33),
  ),
  slope: mostly(fc.oneof(fc.constantFrom(1, 0), fc.double({ min: -4, max: 4, noNaN: true })), wildFloat),
  inter: mostly(fc.oneof(fc.constant(0), fc.double({ min: -1024, max: 1024, noNaN: true })), wildFloat),
  qformCode: mostly(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 4 })),
  sformCode: mostly(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 4 })),
  quatern: fc.tuple(...[0, 1, 2].map(() => mostly(fc.double({ min: -1, max: 1, noNaN: true }), wildFloat))),
  qoffset: fc.tuple(...[0, 1, 2].map(() => mostly(finite, wildFloat))),
  srow: mostly<NiftiCase['srow']>(
    fc.constant('from-pixdim' as const),
    fc.oneof(fc.constant('singular' as const), fc.array(wildFloat, { minLength: 12, maxLength: 12 })),
  ),
  extension: mostly(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  body: mostly<NiftiCase['body']>(
    fc.constant('exact' as const),
    fc.constantFrom('short' as const, 'long' as const),
  ),
  bodySeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  gzip: fc.boolean(),
  gzipCut: mostly(fc.constant(0), fc.integer({ min: 1, max: 400 })),
});

/** The bytes of a generated NIfTI file. */
export function niftiCaseBytes(c: NiftiCase): Buffer {
  const header = Buffer.alloc(352);
  const v = new DataView(header.buffer);
  v.setInt32(0, c.sizeofHdr, c.le);
  c.dims.forEach((d, i) => v.setInt16(40 + 2 * i, d, c.le));
  v.setInt16(70, c.datatype, c.le);
  v.setInt16(72, 8 * (VALID_TYPES[c.datatype] ?? 1), c.le);
  [...c.pixdim, 1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, c.le));
  v.setFloat32(108, c.voxOffset, c.le);
  v.setFloat32(112, c.slope, c.le);
  v.setFloat32(116, c.inter, c.le);
  v.setUint8(123, 10);
  v.setInt16(252, c.qformCode, c.le);
  v.setInt16(254, c.sformCode, c.le);
  c.quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, c.le));
  c.qoffset.forEach((q, i) => v.setFloat32(268 + 4 * i, q, c.le));
  const [, px, py, pz] = c.pixdim;
  const srow =
    c.srow === 'from-pixdim'
      ? [px, 0, 0, c.qoffset[0], 0, py, 0, c.qoffset[1], 0, 0, pz, c.qoffset[2]]
      : c.srow === 'singular'
        ? [px, px, 0, 0, 0, 0, 0, 0, 0, 0, pz, 0]
        : c.srow;
  srow.forEach((s, i) => v.setFloat32(280 + 4 * i, s, c.le));
  header.write(c.magic, 344, 'latin1');
  header[348] = c.extension;
  // the body: the declared size when it is small, else a few bytes (the reader must say truncated)
  const n = c.dims.slice(1, 4).reduce((a, d) => a * Math.max(d, 0), 1);
  const offset =
    Number.isInteger(c.voxOffset) && c.voxOffset >= 352 && c.voxOffset < 4096 ? c.voxOffset : 352;
  const declared = offset - 352 + n * (VALID_TYPES[c.datatype] ?? 1);
  const exact = declared <= 1 << 20 ? declared : 64;
  const length = c.body === 'exact' ? exact : c.body === 'short' ? Math.floor(exact / 2) : exact + 100;
  const body = Buffer.alloc(length);
  let s = c.bodySeed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    body[i] = s >>> 24;
  }
  const raw = Buffer.concat([header, body]);
  if (!c.gzip) return raw;
  const z = gzipSync(raw, { level: 1 });
  return c.gzipCut ? z.subarray(0, Math.max(0, z.length - c.gzipCut)) : z;
}

/**
 * The NIfTI property: readNifti of the generated file returns a consistent volume (sizes, finite positive
 * spacing, finite non-singular direction, finite origin and voxels, and the header-only read agrees), or
 * throws a Recist3dError naming the file.
 */
export function niftiProperty(dir: string): fc.IAsyncPropertyWithHooks<[NiftiCase]> {
  let k = 0;
  return fc.asyncProperty(niftiCase, async (c) => {
    const path = join(dir, `f${k++ % 16}${c.gzip ? '.nii.gz' : '.nii'}`);
    await writeFile(path, niftiCaseBytes(c));
    let vol;
    try {
      vol = await readNifti(path);
    } catch (e) {
      assert.ok(isRecist3dError(e), `not a Recist3dError: ${(e as Error)?.stack ?? String(e)}`);
      assert.equal(e.context.file, path, e.message);
      return;
    }
    const n = vol.size[0] * vol.size[1] * vol.size[2];
    assert.ok(
      vol.size.every((d) => Number.isInteger(d) && d >= 1),
      `size ${vol.size}`,
    );
    assert.equal(vol.data.length, n);
    assert.ok(
      vol.spacingMm.every((x) => Number.isFinite(x) && x > 0),
      `spacing ${vol.spacingMm}`,
    );
    assert.ok(vol.origin.every(Number.isFinite), `origin ${vol.origin}`);
    assert.ok(
      vol.direction.every(Number.isFinite) && Math.abs(det3(vol.direction)) > 1e-6,
      `direction ${vol.direction}`,
    );
    for (let i = 0; i < n; i++) assert.ok(Number.isFinite(vol.data[i]), `voxel ${i} is ${vol.data[i]}`);
    const h = await readNiftiHeader(path);
    assert.deepEqual(
      [h.size, h.spacingMm, h.origin, h.direction],
      [vol.size, vol.spacingMm, vol.origin, vol.direction],
    );
  });
}

// ---------------------------------------------------------------- manifest

const COLUMNS: string[] = [...MANIFEST_COLUMNS];

const number = mostly(
  fc.oneof(
    fc.integer({ min: -5, max: 600 }).map(String),
    fc.double({ min: -10, max: 600, noNaN: true }).map((x) => String(Math.round(x * 100) / 100)),
  ),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e308', '1e400', '0x10', '', ' ', '-', '1,5'),
);
const r2 = (x: number) => Math.round(x * 100) / 100;
/** RECIST marks drawn as a reader would: a long axis and a perpendicular short one through a point on it. */
const drawnRecist = fc
  .record({
    // integers scaled, so values spread evenly (fc.double favours the ends of its range)
    cx: fc.integer({ min: 500, max: 50000 }).map((x) => x / 100),
    cy: fc.integer({ min: 500, max: 50000 }).map((x) => x / 100),
    long: fc.integer({ min: 0, max: 8000 }).map((x) => x / 100),
    ratio: fc.integer({ min: 0, max: 130 }).map((x) => x / 100),
    angle: fc.integer({ min: 0, max: 314 }).map((x) => x / 100),
    at: fc.integer({ min: -30, max: 130 }).map((x) => x / 100),
    skew: fc.integer({ min: -50, max: 50 }).map((x) => x / 100),
  })
  .map(({ cx, cy, long, ratio, angle, at, skew }) => {
    const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
    const [vx, vy] = [Math.cos(angle + Math.PI / 2 + skew), Math.sin(angle + Math.PI / 2 + skew)];
    const [mx, my] = [cx + (at - 0.5) * long * ux, cy + (at - 0.5) * long * uy];
    const s = (ratio * long) / 2;
    return [
      cx - (long / 2) * ux,
      cy - (long / 2) * uy,
      cx + (long / 2) * ux,
      cy + (long / 2) * uy,
      mx - s * vx,
      my - s * vy,
      mx + s * vx,
      my + s * vy,
    ].map(r2);
  });
const recistCell = mostly(
  fc.tuple(drawnRecist, fc.constantFrom(',', ' ', ';', ', ')).map(([ns, sep]) => ns.join(sep)),
  fc.oneof(
    fc.array(number, { minLength: 0, maxLength: 12 }).map((ns) => `[${ns.join(',')}]`),
    fc.string({ maxLength: 30 }),
  ),
);
const idCell = mostly(
  fc.oneof(
    fc.constantFrom('L1', 'L2', 'L3', 'a/1', 'a_1', 'a 1', 'É', 'x.y', '..'),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
  ),
  fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 12 }),
    fc.integer({ min: 190, max: 260 }).map((n) => 'x'.repeat(n)),
  ),
);
const anyCell = (...common: string[]) => mostly(fc.constantFrom(...common), fc.string({ maxLength: 16 }));

/** One manifest: a header (required columns, maybe shuffled, sometimes one missing) and up to 6 rows. */
export const manifestText: fc.Arbitrary<string> = fc
  .tuple(
    mostly(
      fc.shuffledSubarray(COLUMNS.slice(4)).map((extra) => [...COLUMNS.slice(0, 4), ...extra]),
      fc.shuffledSubarray(COLUMNS, { minLength: 3 }),
    ),
    fc.array(
      fc.record({
        lesion_id: idCell,
        image: anyCell('img/a.nii.gz', 'b.nii', '/abs/c.nii.gz'),
        key_slice: number,
        recist: recistCell,
        category: anyCell('liver', 'LUNG', 'soft tissue', '4', '-1', 'bone', ''),
        split: anyCell('train', 'val', 'TEST', ''),
        mask: anyCell('', 'm.nii.gz'),
        patient_id: anyCell('P1', ''),
        study_date: anyCell('20200101', ''),
        window: anyCell('', '-160,240', '[-1000 400]', '240,-160'),
        track_id: anyCell('', 't1'),
      }),
      { maxLength: 6 },
    ),
    fc.constantFrom('', '\ufeff'),
    fc.constantFrom('\n', '\r\n'),
  )
  .map(([header, rows, bom, eol]) => {
    const lines = [
      header.join(','),
      ...rows.map((r) => header.map((c) => csvCell(r[c as keyof typeof r])).join(',')),
    ];
    return bom + lines.join(eol) + eol;
  });

/**
 * The manifest property: parseManifestText returns records that keep the manifest's promises (unique ids and
 * mask file names, ids of at most 200 characters, a whole non-negative key slice, 8 finite RECIST numbers with
 * the long axis the longer, a known category, min < max windows), or throws E_MANIFEST_INVALID listing rows
 * and header fields, or E_CSV_PARSE, both naming the file.
 */
export function manifestProperty(): fc.IPropertyWithHooks<[string]> {
  const file = '/fuzz/manifest.csv';
  return fc.property(manifestText, (text) => {
    let warnings: ManifestIssue[] = [];
    let recs;
    try {
      recs = parseManifestText(text, file, { checkFiles: false, onWarnings: (_f, w) => (warnings = w) });
    } catch (e) {
      assert.ok(isRecist3dError(e), `not a Recist3dError: ${(e as Error)?.stack ?? String(e)}`);
      assert.equal(e.context.file, file);
      if (e instanceof ManifestError) {
        assert.ok(e.issues.length > 0);
        for (const i of e.issues) {
          assert.ok(Number.isInteger(i.row) && i.row >= 1, `row ${i.row}`);
          assert.ok(COLUMNS.includes(i.field), `field ${i.field}`);
        }
      } else assert.equal(e.code, 'E_CSV_PARSE', e.message);
      return;
    }
    const ids = new Set<string>();
    const names = new Set<string>();
    for (const r of recs) {
      assert.ok(r.lesionId.length > 0 && r.lesionId.length <= MAX_LESION_ID_LENGTH);
      assert.ok(!ids.has(r.lesionId) && !names.has(maskFileName(r.lesionId)), `clash ${r.lesionId}`);
      ids.add(r.lesionId);
      names.add(maskFileName(r.lesionId));
      assert.ok(Number.isSafeInteger(r.keySlice) && r.keySlice >= 0, `key_slice ${r.keySlice}`);
      checkRecist(r.recist);
      checkValidation(r.recist);
      assert.ok(parseCategory(r.category) === r.category, `category ${r.category}`);
      if (r.window)
        assert.ok(Number.isFinite(r.window[0]) && r.window[0] < r.window[1], `window ${r.window}`);
      assert.ok(r.row >= 2);
    }
    for (const w of warnings) assert.equal(w.field, 'recist');
  });
}

/** validateRecist on a 512 x 512 slice: a measurement that keeps its rules, or E_RECIST_* on field recist. */
function checkValidation(r: Recist): void {
  let m;
  try {
    m = validateRecist(r, [512, 512], [0.7, 0.7]);
  } catch (e) {
    assert.ok(
      isRecist3dError(e) && e.code.startsWith('E_RECIST_') && e.context.field === 'recist',
      String(e),
    );
    return;
  }
  assert.ok(m.longMm >= 0.35 && m.shortMm >= 0.35 && m.angleDeg >= 45 - 1e-9, JSON.stringify(m));
  const miss = recistCrossingMissPx(r);
  const len = ([a, b]: Recist['long']) => Math.hypot(b[0] - a[0], b[1] - a[1]);
  assert.ok(
    miss.long <= Math.max(2, 0.1 * len(r.long)) + 1e-9 &&
      miss.short <= Math.max(2, 0.1 * len(r.short)) + 1e-9,
  );
}

function checkRecist(r: Recist): void {
  const pts = [...r.long, ...r.short].flat();
  assert.equal(pts.length, 8);
  assert.ok(pts.every(Number.isFinite), `RECIST ${pts}`);
  const len = ([a, b]: Recist['long']) => Math.hypot(b[0] - a[0], b[1] - a[1]);
  assert.ok(len(r.long) >= len(r.short), 'the long axis is the longer');
}

// ---------------------------------------------------------------- DL_info

const GOOD_DL = [
  '000001_01_01_109.png',
  '1',
  '1',
  '1',
  '109',
  '233.537, 95.0204, 234.057, 106.977, 231.169, 101.605, 236.252, 101.143',
  '226.169, 90.0204, 241.252, 111.977',
  '11.9677, 5.10387',
  '0.44666, 0.283794, 0.434454',
  '3',
  '0',
  '103, 115',
  '0.488281, 0.488281, 5',
  '512, 512',
  '-175, 275',
  'F',
  '62.0',
  '3',
];

const numberList = (n: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.array(number, { minLength: n, maxLength: n }).map((xs) => xs.join(', ')) },
    { weight: 1, arbitrary: fc.array(number, { minLength: 0, maxLength: n + 2 }).map((xs) => xs.join(',')) },
  );
/** Replacement values for each DL_info column. */
const DL_MUTATIONS: fc.Arbitrary<string>[] = [
  fc.constantFrom('000002_03_01_007.png', '1_2_3_4.png', 'x.png', '', '000001_01_01_109.PNG'),
  number,
  number,
  number,
  number,
  numberList(8),
  numberList(4),
  numberList(2),
  numberList(3),
  fc.constantFrom('-1', '0', '8', '9', 'x', ''),
  fc.constantFrom('0', '1', '2', ''),
  numberList(2),
  numberList(3),
  numberList(2),
  fc.oneof(numberList(2), fc.constantFrom('275, -175', '0, 0', '-1000, 400')),
  fc.constantFrom('M', 'F', '', '?', '"', 'M,F'),
  fc.constantFrom('', 'NaN', '45', 'old', '-3'),
  fc.constantFrom('1', '2', '3', '0', '4', ''),
];

/**
 * 1..5 DL_info rows: the good row with 0..3 columns replaced (and sometimes its axes given short first), as
 * [CSV text, number of data rows].
 */
export const dlInfoText: fc.Arbitrary<[string, number]> = fc
  .array(fc.tuple(fc.array(fc.integer({ min: 0, max: 17 }), { maxLength: 3 }), fc.boolean()), {
    minLength: 1,
    maxLength: 5,
  })
  .chain((rows) =>
    fc.tuple(
      ...rows.map(([cols, swap]) =>
        fc.tuple(...cols.map((col) => DL_MUTATIONS[col])).map((vals) => {
          const cells = [...GOOD_DL];
          if (swap) cells[5] = '231.169, 101.605, 236.252, 101.143, 233.537, 95.0204, 234.057, 106.977';
          cols.forEach((col, q) => (cells[col] = vals[q]));
          return cells.map(csvCell).join(',');
        }),
      ),
    ),
  )
  .map((lines): [string, number] => [[DL_INFO_COLUMNS.join(','), ...lines].join('\n') + '\n', lines.length]);

/**
 * The DL_info property: every data row is either parsed (unique lesion id, finite RECIST with the long axis
 * the longer, min < max window, positive spacing, whole positive image size, key slice inside Slice_range) or
 * reported with its row and a DL_info column; without skipInvalid the same rows give one E_DEEPLESION_ROW.
 */
export function dlInfoProperty(): fc.IPropertyWithHooks<[[string, number]]> {
  const file = '/fuzz/DL_info.csv';
  return fc.property(dlInfoText, ([text, dataRows]) => {
    const issues: DlInfoIssue[] = [];
    const rows = parseDlInfoText(text, file, { skipInvalid: true, onIssue: (i) => issues.push(i) });
    assert.equal(rows.length + issues.length, dataRows, 'every row is parsed or reported');
    for (const i of issues) {
      assert.ok(i.row >= 2 && i.row <= dataRows + 1, `row ${i.row}`);
      assert.ok((DL_INFO_COLUMNS as readonly string[]).includes(i.field), `field ${i.field}`);
    }
    assert.equal(new Set(rows.map((r) => r.lesionId)).size, rows.length, 'lesion ids unique');
    for (const r of rows) {
      checkRecist(r.recist);
      assert.ok(r.dicomWindow[0] < r.dicomWindow[1], `window ${r.dicomWindow}`);
      assert.ok(
        r.spacingMm.every((s) => Number.isFinite(s) && s > 0),
        `spacing ${r.spacingMm}`,
      );
      assert.ok(
        r.imageSize.every((s) => Number.isInteger(s) && s > 0),
        `size ${r.imageSize}`,
      );
      assert.ok(r.sliceRange[0] <= r.keySliceIndex && r.keySliceIndex <= r.sliceRange[1]);
      assert.ok([1, 2, 3].includes(r.trainValTest) && r.category !== undefined);
    }
    try {
      assert.equal(parseDlInfoText(text, file).length, rows.length);
      assert.equal(issues.length, 0, 'bad rows must throw without skipInvalid');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(isRecist3dError(e, 'E_DEEPLESION_ROW'), String(e));
      assert.equal(e.context.file, file);
      assert.equal(e.context.row, issues[0].row);
      assert.equal(e.context.field, issues[0].field);
    }
  });
}
