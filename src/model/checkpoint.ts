/**
 * Checkpoints: the libtorch weights and optimizer state (`<name>.pt`) plus a JSON sidecar (`<name>.json`)
 * that says how to rebuild the network and how its inputs were made (architecture, input size, channels,
 * ROI scale, window rule, seed, git revision, versions, device, metrics).
 */
import { z } from 'zod';
import { Recist3dError } from '../errors.js';
import { SegNet, engineInfo, type NetConfig } from './binding.js';
import { createHash } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { zipProblem } from '../util/zip-verify.js';
import { exists, readJson, writeJsonAtomic } from '../util/fs.js';
import { provenance } from '../util/provenance.js';

const sidecarSchema = z.object({
  format: z.literal('recist3d-checkpoint-1'),
  net: z.object({
    arch: z.enum(['unet', 'hnn']),
    inChannels: z.number().int().positive(),
    size: z.number().int().positive(),
    baseWidth: z.number().int().positive(),
    depth: z.number().int().positive(),
    seed: z.number().int().nonnegative(),
    learningRate: z.number().positive(),
    loss: z.enum(['bce', 'balanced']),
  }),
  input: z.object({
    /** ROI side as a multiple of the RECIST bounding box. */
    roiScale: z.number().positive(),
    /** How the ROI is filled beyond the image: mirrored, or constant -1024 HU. */
    padMode: z.enum(['constant', 'reflect']).default('reflect'),
    /** 'record-or-category': the manifest row's window, else `categoryWindows[category]`. */
    window: z.string(),
    /** The per-category HU windows the model was trained with. */
    categoryWindows: z.record(z.string(), z.tuple([z.number(), z.number()])).optional(),
    /** Last input channel: 'recist-ellipse' = the (estimated) RECIST ellipse of the slice; 'none' = image only. */
    prior: z.enum(['none', 'recist-ellipse']).default('none'),
    /** Neighbouring slices on each side given as image channels before the prior (0 = the slice alone). */
    context: z.number().int().nonnegative().default(0),
    /**
     * HNN-SR: two channels after the image slices, the stacked GAN's denoised and enhanced image of the slice,
     * made by the G1/G2 whose weights have these SHA-256 (`recist3d sr train`); null = no SR channels (also
     * what a sidecar without the field means).
     */
    sr: z
      .object({
        g1Sha256: z.string(),
        g2Sha256: z.string(),
        channels: z.tuple([z.literal('denoised'), z.literal('enhanced')]),
      })
      .nullable()
      .default(null),
  }),
  metrics: z.record(z.string(), z.unknown()).default({}),
  provenance: z.record(z.string(), z.unknown()).default({}),
  /** SHA-256 and size of `<base>.pt` when it was written; checked before every load (absent in older sidecars). */
  weights: z.object({ sha256: z.string(), bytes: z.number().int().nonnegative() }).optional(),
});

export type CheckpointSidecar = z.infer<typeof sidecarSchema>;

/** How the network's inputs were made, as the sidecar records it. */
export type CheckpointInput = CheckpointSidecar['input'];

/** The SR models of an HNN-SR checkpoint (`input.sr`). */
export type CheckpointSr = NonNullable<CheckpointInput['sr']>;

export interface CheckpointInfo {
  input: CheckpointInput;
  metrics?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Writes `<base>.pt` and `<base>.json` (weights first, sidecar last, both atomically). */
export async function saveCheckpoint(net: SegNet, base: string, info: CheckpointInfo): Promise<void> {
  const tmp = `${base}.pt.tmp-${process.pid}`;
  await net.save(tmp);
  const bytes = await readFile(tmp);
  const weights = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  await rename(tmp, `${base}.pt`);
  const e = engineInfo();
  const sidecar: CheckpointSidecar = {
    format: 'recist3d-checkpoint-1',
    net: { ...net.config },
    input: info.input,
    weights,
    metrics: info.metrics ?? {},
    provenance: provenance({
      torch: e.torchVersion,
      opencv: e.opencvVersion,
      device: e.device,
      threads: e.threads,
      ...info.extra,
    }),
  };
  await writeJsonAtomic(`${base}.json`, sidecar);
}

export async function readSidecar(base: string): Promise<CheckpointSidecar> {
  const path = `${base}.json`;
  if (!(await exists(path))) {
    throw new Recist3dError('E_CHECKPOINT', `No checkpoint sidecar at ${path}`, { file: path });
  }
  const parsed = sidecarSchema.safeParse(await readJson<unknown>(path).catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Recist3dError('E_CHECKPOINT', `Invalid checkpoint sidecar: ${issue?.message ?? 'not JSON'}`, {
      file: path,
      field: issue?.path.join('.'),
    });
  }
  return parsed.data;
}

/**
 * Checks a weights file before it is loaded: every zip entry's CRC-32 (libtorch does not check them), and the
 * SHA-256 recorded in the sidecar when one is given. A damaged or changed file is E_CHECKPOINT naming it.
 */
export async function verifyWeights(
  ptPath: string,
  sidecar?: Pick<CheckpointSidecar, 'weights'>,
): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(ptPath);
  } catch (e) {
    throw new Recist3dError('E_CHECKPOINT', `Checkpoint weights cannot be read: ${(e as Error).message}`, {
      file: ptPath,
    });
  }
  const w = sidecar?.weights;
  if (w) {
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== w.sha256)
      throw new Recist3dError(
        'E_CHECKPOINT',
        `Checkpoint weights differ from what was saved (${bytes.length} bytes with SHA-256 ${sha.slice(0, 12)}..., ` +
          `the sidecar records ${w.bytes} bytes with ${w.sha256.slice(0, 12)}...): the file was damaged or replaced`,
        { file: ptPath },
      );
  }
  const problem = zipProblem(bytes);
  if (problem)
    throw new Recist3dError('E_CHECKPOINT', `Checkpoint weights are damaged: ${problem}`, { file: ptPath });
}

/** verifyWeights for `<base>.pt` with its sidecar `<base>.json` when there is one. */
export async function verifyCheckpoint(base: string): Promise<void> {
  const sidecar = (await exists(`${base}.json`)) ? await readSidecar(base) : undefined;
  await verifyWeights(`${base}.pt`, sidecar);
}

/** Rebuilds the network described by `<base>.json` and loads `<base>.pt` into it (verified first). */
export async function loadCheckpoint(
  base: string,
  overrides: Partial<NetConfig> = {},
): Promise<{ net: SegNet; sidecar: CheckpointSidecar }> {
  const sidecar = await readSidecar(base);
  if (!(await exists(`${base}.pt`))) {
    throw new Recist3dError('E_CHECKPOINT', `Checkpoint weights missing: ${base}.pt`, { file: `${base}.pt` });
  }
  await verifyWeights(`${base}.pt`, sidecar);
  const net = await SegNet.create({ ...sidecar.net, ...overrides });
  try {
    await net.load(`${base}.pt`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, sidecar };
}
