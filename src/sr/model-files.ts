/**
 * The files of a trained stacked GAN: `<dir>/<stage>.pt` (both networks, both optimizer states and the step
 * count, written by the native engine) and `<dir>/<stage>.json` (the sidecar: sizes, how far training got,
 * the data it used, the intensity window, losses, weights hash, provenance), for stage g1 (denoiser) and g2
 * (enhancer). Loading checks the sidecar, the weights' hash and that training finished.
 */
import { createHash } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Recist3dError } from '../errors.js';
import { SrGan, engineInfo } from '../model/binding.js';
import { verifyWeights } from '../model/checkpoint.js';
import { exists, readJson, writeJsonAtomic } from '../util/fs.js';
import { provenance } from '../util/provenance.js';

export const SR_STAGES = ['g1', 'g2'] as const;
export type SrStage = (typeof SR_STAGES)[number];

const netSchema = z.object({
  blocks: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  discWidth: z.number().int().positive(),
  dense: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  learningRate: z.number().positive(),
  advWeight: z.number().nonnegative(),
  gradWeight: z.number().nonnegative(),
});

const sidecarSchema = z.object({
  format: z.literal('recist3d-sr-1'),
  stage: z.enum(SR_STAGES),
  /** 'denoise' (G1) or 'enhance' (G2). */
  task: z.enum(['denoise', 'enhance']),
  net: netSchema,
  training: z.object({
    steps: z.number().int().nonnegative(),
    stepsDone: z.number().int().nonnegative(),
    batchSize: z.number().int().positive(),
    crop: z.number().int().positive(),
    /** The last steps that draw half their crops from CT slices (0 without CT). */
    fineTuneSteps: z.number().int().nonnegative(),
    seed: z.number().int().nonnegative(),
    seconds: z.number().nonnegative(),
  }),
  data: z.object({
    photos: z.array(z.string()),
    ct: z.array(z.string()),
    /** HU windows the CT slices were mapped to [0, 1] with. */
    ctWindowsHu: z.array(z.tuple([z.number(), z.number()])),
  }),
  /** Mean losses per logging interval: step (the interval's last), generator, pixel, gradient, discriminator. */
  losses: z.array(z.tuple([z.number(), z.number(), z.number(), z.number(), z.number()])),
  weights: z.object({ sha256: z.string(), bytes: z.number().int().nonnegative() }),
  provenance: z.record(z.string(), z.unknown()).default({}),
});

export type SrSidecar = z.infer<typeof sidecarSchema>;

export function stagePaths(dir: string, stage: SrStage): { pt: string; json: string } {
  return { pt: join(dir, `${stage}.pt`), json: join(dir, `${stage}.json`) };
}

/** Writes `<stage>.pt` then its sidecar (both atomically; the sidecar records the weights' hash). */
export async function saveStage(
  net: SrGan,
  dir: string,
  stage: SrStage,
  info: Omit<SrSidecar, 'format' | 'stage' | 'net' | 'weights' | 'provenance'>,
): Promise<void> {
  const { pt, json } = stagePaths(dir, stage);
  const tmp = `${pt}.tmp-${process.pid}`;
  await net.save(tmp, info.training.stepsDone);
  const bytes = await readFile(tmp);
  await rename(tmp, pt);
  const e = engineInfo();
  const sidecar: SrSidecar = {
    format: 'recist3d-sr-1',
    stage,
    net: { ...net.config },
    ...info,
    weights: { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length },
    provenance: provenance({ torch: e.torchVersion, device: e.device, threads: e.threads }),
  };
  await writeJsonAtomic(json, sidecar);
}

/** The stage's sidecar, or undefined when there is none; E_CHECKPOINT naming the file and field when invalid. */
export async function readStageSidecar(dir: string, stage: SrStage): Promise<SrSidecar | undefined> {
  const { json } = stagePaths(dir, stage);
  if (!(await exists(json))) return undefined;
  const parsed = sidecarSchema.safeParse(await readJson<unknown>(json).catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Recist3dError('E_CHECKPOINT', `Invalid SR sidecar: ${issue?.message ?? 'not JSON'}`, {
      file: json,
      field: issue?.path.join('.'),
    });
  }
  return parsed.data;
}

/** Rebuilds the stage's networks from its sidecar and loads its verified weights; resolves with the step count. */
export async function loadStage(
  dir: string,
  stage: SrStage,
  sidecar: SrSidecar,
): Promise<{ net: SrGan; step: number }> {
  const { pt } = stagePaths(dir, stage);
  await verifyWeights(pt, sidecar);
  const net = await SrGan.create(sidecar.net);
  try {
    return { net, step: await net.load(pt) };
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/** Both trained generators of `dir` (E_CHECKPOINT when a stage is missing or did not finish training). */
export async function loadSrModels(
  dir: string,
): Promise<{ g1: SrGan; g2: SrGan; sidecars: Record<SrStage, SrSidecar> }> {
  const sidecars = {} as Record<SrStage, SrSidecar>;
  for (const stage of SR_STAGES) {
    const s = await readStageSidecar(dir, stage);
    if (!s)
      throw new Recist3dError(
        'E_CHECKPOINT',
        `No trained SR stage ${stage} in ${dir} (expected ${stage}.json and ${stage}.pt written by \`recist3d sr train --out ${dir}\`)`,
        { file: stagePaths(dir, stage).json },
      );
    if (s.training.stepsDone < s.training.steps)
      throw new Recist3dError(
        'E_CHECKPOINT',
        `SR stage ${stage} in ${dir} stopped after ${s.training.stepsDone} of ${s.training.steps} steps: resume it with \`recist3d sr train --out ${dir}\``,
        { file: stagePaths(dir, stage).json },
      );
    sidecars[stage] = s;
  }
  const g1 = (await loadStage(dir, 'g1', sidecars.g1)).net;
  try {
    const g2 = (await loadStage(dir, 'g2', sidecars.g2)).net;
    return { g1, g2, sidecars };
  } catch (e) {
    g1.dispose();
    throw e;
  }
}
