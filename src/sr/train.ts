/**
 * Trains the stacked GAN: G1 (denoiser) on noisy 32x32 crops, then G2 (enhancer) on degraded 128x128 crops
 * (degrade.ts), from natural photographs, the last steps of each stage half from CT slices (the fine-tuning on
 * CT). Every step's crops and degradations come from a generator seeded by (seed, stage, step), so a run that
 * is stopped and resumed from its last checkpoint draws the same batches as one that ran through.
 */
import { mkdir } from 'node:fs/promises';
import { Recist3dError } from '../errors.js';
import { SrGan, type SrConfig } from '../model/binding.js';
import { createRng, type Rng } from '../util/random.js';
import { degradeForDenoiser, degradeForEnhancer, randomCrop } from './degrade.js';
import { loadStage, readStageSidecar, saveStage, type SrSidecar, type SrStage } from './model-files.js';
import type { SourceImage } from './sources.js';

/** One stage's networks and schedule. */
export interface SrStageSpec {
  /** Generator residual blocks. */
  blocks: number;
  /** Generator width. */
  width: number;
  /** Discriminator width of its first convolution. */
  discWidth: number;
  /** Discriminator dense units. */
  dense: number;
  /** Training steps (one D and one G update each). */
  steps: number;
  /** Crops per step. */
  batchSize: number;
  /** Crop side in pixels. */
  crop: number;
}

/**
 * 'paper': the paper's networks (G1 9 blocks, G2 16 blocks, width 64; D 64..512 with 1024 dense units) and
 * SRGAN-like schedules (days on 2 CPU cores). 'small': the default, the same depths (9 and 16 blocks, 8
 * discriminator convolutions) at width 16 and short schedules, so that both stages train in about half an
 * hour on 2 CPU cores (docs/sr.md states what it costs in quality).
 */
export const SR_PRESETS = {
  small: {
    g1: { blocks: 9, width: 16, discWidth: 8, dense: 64, steps: 600, batchSize: 16, crop: 32 },
    g2: { blocks: 16, width: 16, discWidth: 8, dense: 64, steps: 400, batchSize: 4, crop: 128 },
  },
  paper: {
    g1: { blocks: 9, width: 64, discWidth: 64, dense: 1024, steps: 100_000, batchSize: 16, crop: 32 },
    g2: { blocks: 16, width: 64, discWidth: 64, dense: 1024, steps: 100_000, batchSize: 16, crop: 128 },
  },
} as const satisfies Record<string, Record<SrStage, SrStageSpec>>;

export type SrPreset = keyof typeof SR_PRESETS;

export interface SrTrainOptions {
  /** Network sizes and schedules; default 'small'. */
  preset?: SrPreset;
  /** Per-stage overrides of the preset (e.g. fewer steps in a test). */
  stages?: Partial<Record<SrStage, Partial<SrStageSpec>>>;
  /** Seed of the weights and of every step's crops; default 0. */
  seed?: number;
  /** Adam learning rate; default 1e-4 (SRGAN's). */
  learningRate?: number;
  /** Weight of the adversarial loss; default 1e-3 (SRGAN's). */
  advWeight?: number;
  /** Weight of the image-gradient L1 loss beside the pixel L1; default 1. */
  gradWeight?: number;
  /** Share of each stage's steps (the last ones) that draw half their crops from CT; default 0.25 (0 without CT). */
  fineTuneShare?: number;
  /** Save a checkpoint every this many steps (and at the end of each stage); default 50. */
  saveEvery?: number;
  /** Mean losses are logged in the sidecar every this many steps; default 10. */
  logEvery?: number;
  /** Called after every step (after its checkpoint, when it has one). */
  onStep?: (
    stage: SrStage,
    done: number,
    total: number,
    losses: { generator: number; discriminator: number },
  ) => void;
}

const DEFAULTS = {
  preset: 'small',
  stages: {},
  seed: 0,
  learningRate: 1e-4,
  advWeight: 1e-3,
  gradWeight: 1,
  fineTuneShare: 0.25,
  saveEvery: 50,
  logEvery: 10,
  onStep: () => {},
} satisfies Required<SrTrainOptions>;

export interface SrTrainData {
  photos: readonly SourceImage[];
  ct: readonly SourceImage[];
  /** The CT windows the ct slices were made with (recorded in the sidecars). */
  ctWindowsHu: ReadonlyArray<readonly [number, number]>;
}

export interface SrStageResult {
  stage: SrStage;
  /** 'trained', 'resumed' (continued from a checkpoint) or 'done' (already complete, left as is). */
  status: 'trained' | 'resumed' | 'done';
  stepsDone: number;
  seconds: number;
  /** Mean generator loss of the first and the last logging interval of the whole stage. */
  firstLoss?: number;
  lastLoss?: number;
}

/** Trains G1 then G2 into `dir`, resuming a stage that has a checkpoint with the same sizes and schedule. */
export async function trainStackedGan(
  dir: string,
  data: SrTrainData,
  options: SrTrainOptions = {},
): Promise<SrStageResult[]> {
  const o = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as Required<SrTrainOptions>;
  await mkdir(dir, { recursive: true });
  const results: SrStageResult[] = [];
  for (const stage of ['g1', 'g2'] as const) {
    const spec = { ...SR_PRESETS[o.preset][stage], ...o.stages[stage] };
    results.push(await trainStage(dir, stage, spec, data, o));
  }
  return results;
}

function checkSources(images: readonly SourceImage[], crop: number, stage: SrStage): void {
  for (const im of images)
    if (im.h < crop || im.w < crop)
      throw new Recist3dError(
        'E_SR_DATA',
        `Training image ${im.name} (${im.w}x${im.h}) is smaller than the ${crop} px crops of stage ${stage}`,
        {
          file: im.name,
        },
      );
}

async function trainStage(
  dir: string,
  stage: SrStage,
  spec: SrStageSpec,
  data: SrTrainData,
  o: Required<SrTrainOptions>,
): Promise<SrStageResult> {
  if (data.photos.length === 0) throw new Recist3dError('E_SR_DATA', 'No training photographs');
  checkSources(data.photos, spec.crop, stage);
  const ct = data.ct.filter((im) => im.h >= spec.crop && im.w >= spec.crop);
  const config: Required<SrConfig> = {
    blocks: spec.blocks,
    width: spec.width,
    discWidth: spec.discWidth,
    dense: spec.dense,
    seed: o.seed,
    learningRate: o.learningRate,
    advWeight: o.advWeight,
    gradWeight: o.gradWeight,
  };
  const fineTuneSteps = ct.length > 0 ? Math.round(spec.steps * o.fineTuneShare) : 0;
  const training = {
    steps: spec.steps,
    batchSize: spec.batchSize,
    crop: spec.crop,
    fineTuneSteps,
    seed: o.seed,
  };
  const prior = await readStageSidecar(dir, stage);
  let net: SrGan;
  let start = 0;
  let seconds = 0;
  let losses: SrSidecar['losses'] = [];
  let status: SrStageResult['status'] = 'trained';
  if (prior && sameRun(prior, config, training)) {
    if (prior.training.stepsDone >= prior.training.steps)
      return {
        stage,
        status: 'done',
        stepsDone: prior.training.stepsDone,
        seconds: 0,
        ...lossSpan(prior.losses),
      };
    ({ net, step: start } = await loadStage(dir, stage, prior));
    seconds = prior.training.seconds;
    losses = prior.losses.filter(([s]) => s <= start);
    status = 'resumed';
  } else {
    if (prior)
      throw new Recist3dError(
        'E_CHECKPOINT',
        `${dir} already holds an SR stage ${stage} trained with other sizes or schedule: use another --out, or delete ${stage}.pt and ${stage}.json to start over`,
        { file: `${dir}/${stage}.json` },
      );
    net = await SrGan.create(config);
  }
  const t0 = Date.now() - seconds * 1000;
  const meta = () => ({
    task: stage === 'g1' ? ('denoise' as const) : ('enhance' as const),
    data: {
      photos: data.photos.map((p) => p.name),
      ct: [...new Set(ct.map((c) => c.name.replace(/#.*$/, '')))],
      ctWindowsHu: data.ctWindowsHu.map(([a, b]) => [a, b] as [number, number]),
    },
    losses,
  });
  const save = (done: number) =>
    saveStage(net, dir, stage, {
      ...meta(),
      training: { ...training, stepsDone: done, seconds: (Date.now() - t0) / 1000 },
    });
  try {
    const acc = [0, 0, 0, 0];
    let inInterval = 0;
    for (let step = start; step < spec.steps; step++) {
      const rng = createRng(`sr:${o.seed}:${stage}:${step}`);
      const fromCt = step >= spec.steps - fineTuneSteps;
      const { x, y } = makeBatch(stage, spec, data.photos, fromCt ? ct : [], rng);
      const l = await net.trainStep(x, y, spec.batchSize, spec.crop, spec.crop);
      acc[0] += l.generator;
      acc[1] += l.pixel;
      acc[2] += l.gradient;
      acc[3] += l.discriminator;
      inInterval++;
      if ((step + 1) % o.logEvery === 0 || step + 1 === spec.steps) {
        losses.push([
          step + 1,
          ...(acc.map((v) => round(v / inInterval)) as [number, number, number, number]),
        ]);
        acc.fill(0);
        inInterval = 0;
      }
      if ((step + 1) % o.saveEvery === 0 || step + 1 === spec.steps) await save(step + 1);
      o.onStep(stage, step + 1, spec.steps, { generator: l.generator, discriminator: l.discriminator });
    }
    if (start >= spec.steps) await save(spec.steps);
  } finally {
    net.dispose();
  }
  return { stage, status, stepsDone: spec.steps, seconds: (Date.now() - t0) / 1000, ...lossSpan(losses) };
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function lossSpan(losses: SrSidecar['losses']): { firstLoss?: number; lastLoss?: number } {
  return losses.length ? { firstLoss: losses[0][1], lastLoss: losses[losses.length - 1][1] } : {};
}

function sameRun(
  s: SrSidecar,
  net: Required<SrConfig>,
  t: Omit<SrSidecar['training'], 'stepsDone' | 'seconds'>,
): boolean {
  const keys = Object.keys(net) as (keyof SrConfig)[];
  return (
    keys.every((k) => s.net[k] === net[k]) &&
    s.training.steps === t.steps &&
    s.training.batchSize === t.batchSize &&
    s.training.crop === t.crop &&
    s.training.fineTuneSteps === t.fineTuneSteps &&
    s.training.seed === t.seed
  );
}

/** One step's pairs: clean crops (y) and their degraded versions (x); half from CT when `ct` is not empty. */
export function makeBatch(
  stage: SrStage,
  spec: Pick<SrStageSpec, 'batchSize' | 'crop'>,
  photos: readonly SourceImage[],
  ct: readonly SourceImage[],
  rng: Rng,
): { x: Float32Array; y: Float32Array } {
  const plane = spec.crop * spec.crop;
  const x = new Float32Array(spec.batchSize * plane);
  const y = new Float32Array(spec.batchSize * plane);
  for (let i = 0; i < spec.batchSize; i++) {
    const pool = ct.length > 0 && i % 2 === 1 ? ct : photos;
    const clean = randomCrop(pool[rng.int(pool.length)], spec.crop, rng);
    const input =
      stage === 'g1' ? degradeForDenoiser(clean, rng).input : degradeForEnhancer(clean, rng).input;
    y.set(clean.data, i * plane);
    x.set(input.data, i * plane);
  }
  return { x, y };
}
