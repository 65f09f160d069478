/**
 * Checkpoints: the libtorch weights and optimizer state (`<name>.pt`) plus a JSON sidecar (`<name>.json`)
 * that says how to rebuild the network and how its inputs were made (architecture, input size, channels,
 * ROI scale, window rule, seed, git revision, versions, device, metrics).
 */
import { z } from 'zod';
import { Recist3dError } from '../errors.js';
import { SegNet, engineInfo, type NetConfig } from './binding.js';
import { rename } from 'node:fs/promises';
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
  }),
  metrics: z.record(z.string(), z.unknown()).default({}),
  provenance: z.record(z.string(), z.unknown()).default({}),
});

export type CheckpointSidecar = z.infer<typeof sidecarSchema>;

/** How the network's inputs were made, as the sidecar records it. */
export type CheckpointInput = CheckpointSidecar['input'];

export interface CheckpointInfo {
  input: CheckpointInput;
  metrics?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Writes `<base>.pt` and `<base>.json` (weights first, sidecar last, both atomically). */
export async function saveCheckpoint(net: SegNet, base: string, info: CheckpointInfo): Promise<void> {
  const tmp = `${base}.pt.tmp-${process.pid}`;
  await net.save(tmp);
  await rename(tmp, `${base}.pt`);
  const e = engineInfo();
  const sidecar: CheckpointSidecar = {
    format: 'recist3d-checkpoint-1',
    net: { ...net.config },
    input: info.input,
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

/** Rebuilds the network described by `<base>.json` and loads `<base>.pt` into it. */
export async function loadCheckpoint(
  base: string,
  overrides: Partial<NetConfig> = {},
): Promise<{ net: SegNet; sidecar: CheckpointSidecar }> {
  const sidecar = await readSidecar(base);
  if (!(await exists(`${base}.pt`))) {
    throw new Recist3dError('E_CHECKPOINT', `Checkpoint weights missing: ${base}.pt`, { file: `${base}.pt` });
  }
  const net = await SegNet.create({ ...sidecar.net, ...overrides });
  try {
    await net.load(`${base}.pt`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, sidecar };
}
