/**
 * The WSSS training job (paper Algorithm 1), shared by `run` (K self-paced rounds) and `train` (round 0 only):
 * ROI stacks (step 1) -> round-0 labels (step 2) -> train (step 3) -> for k = 1..K: harvest slices r-k..r+k
 * with the previous model (step 4), fine-tune (step 3). Every stage goes through the StageRunner, so a job
 * killed at any point resumes at its last finished stage (training at its last finished epoch), and a rerun
 * with other settings reruns from the first stage they change.
 *
 * Folder layout: `work/` (cohort.json, stage markers, label stores), `rounds/roundK.pt/.json` (every round's
 * model, with `.last` per-epoch and `.best` checkpoints), `model.pt/.json` (the final model, which `segment
 * --model DIR` reads) and `training-curve.svg`.
 */
import { join } from 'node:path';
import { asLesionError, Recist3dError } from '../errors.js';
import { sliceMaskToRoi } from '../geometry/roi.js';
import { readMask } from '../io/nifti.js';
import { engineInfo, type SegNet } from '../model/binding.js';
import {
  readSidecar,
  saveCheckpoint,
  verifyCheckpoint,
  verifyWeights,
  type CheckpointInput,
} from '../model/checkpoint.js';
import { lineChart } from '../report/svg.js';
import { buildStacks, STACK_DEFAULTS, type StackOptions } from '../steps/1-roi-stacks.js';
import {
  initialLabels,
  ROUND0_LABEL_DEFAULTS,
  type InitialLabels,
  type Round0LabelOptions,
} from '../steps/2-round0-labels.js';
import { createNet, NET_DEFAULTS, trainStage, type NetOptions } from '../steps/3-train.js';
import {
  HARVEST_DEFAULTS,
  harvestRound,
  type HarvestOptions,
  type HarvestStats,
} from '../steps/4-harvest.js';
import { FIT_DEFAULTS, type EpochRecord, type FitOptions } from '../train/fit.js';
import type { HarvestedLabel } from '../types/label.js';
import type { LesionRecord } from '../types/recist.js';
import type { LesionStack } from '../types/stack.js';
import { exists, readJson, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { summarizeFailures } from '../util/failure-summary.js';
import { resolveOptions } from '../util/options.js';
import { inputChannels, inputLayoutOf, stackInput, type InputLayout } from '../model/infer.js';
import { addSrChannels, openSr, stackSliceCount, type LoadedSr } from '../sr/stack-channels.js';
import { loadSrImages, saveSrImages, srImagesKey } from '../sr/stack-cache.js';
import type { CheckpointSr } from '../model/checkpoint.js';
import { loadLabels, saveLabels } from './label-store.js';
import { lesionShards, waitForFile, type LesionShards } from './lesion-shards.js';
import { StageRunner, stageKey, type SharedRunner, type StageMarker } from './stage-runner.js';

/** The numeric settings of the training loop (FitOptions without its callbacks and paths). */
export type FitSettings = Omit<
  FitOptions,
  'onEpoch' | 'onStep' | 'bestPath' | 'saveBest' | 'resumeHistory' | 'seed'
>;

export interface WsssOptions {
  /** Self-paced rounds K (WSSS-3/5/7 = 1/2/3); 0 = the RECIST-slice model only. */
  rounds?: number;
  /** Round-0 labels: GrabCut-R masks, the RECIST trimap (uncertain ignored) or the ground truth. */
  labels?: InitialLabels;
  stack?: StackOptions;
  net?: NetOptions;
  /** Training of round 0. */
  fit?: FitSettings;
  /** Fine-tuning in rounds >= 1 (over `fit`). */
  fineTune?: FitSettings;
  round0?: Round0LabelOptions;
  harvest?: HarvestOptions;
  /** Train only on lesions of these manifest splits (empty: every lesion; training uses RECIST marks only). */
  trainSplits?: string[];
  /** Share of the training patients held out for early stopping. */
  valFraction?: number;
  /** Start round 0 from these weights: a `.pt` file, a checkpoint base (`X` of `X.pt`) or a model folder. */
  init?: string;
  /** Seed of every random step (the network's initialisation too, unless `net.seed` is given). */
  seed?: number;
  /**
   * HNN-SR: the folder of a trained stacked GAN (`recist3d sr train`); the network then takes the denoised and
   * enhanced image of each slice as two more input channels ('' = no SR). The SR images are computed once per
   * stack slice after the stacks are cut; the models' weights hashes go into the stage keys and the sidecars.
   */
  sr?: string;
}

const FIT_SETTINGS_DEFAULTS = (({
  onEpoch: _e,
  onStep: _s,
  bestPath: _b,
  saveBest: _w,
  resumeHistory: _r,
  seed: _d,
  ...f
}) => f)(FIT_DEFAULTS) satisfies Required<FitSettings>;

export const WSSS_DEFAULTS = {
  rounds: 2,
  labels: 'grabcut-r' as InitialLabels,
  stack: STACK_DEFAULTS,
  net: NET_DEFAULTS,
  fit: FIT_SETTINGS_DEFAULTS,
  // maxSamplesPerEpoch 0: every harvested slice in every fine-tuning epoch. On LIDC a cap of 1,536 cut the
  // run from 572 to 464 s but also 3D Dice from 0.782 to 0.774 (docs/results-3d.md); `--fine-tune-samples`.
  fineTune: {
    maxEpochs: 12,
    learningRate: 3e-4,
    minEpochs: 3,
    stopPatience: 4,
    lrPatience: 3,
    maxSamplesPerEpoch: 0,
  } as FitSettings,
  round0: ROUND0_LABEL_DEFAULTS,
  harvest: HARVEST_DEFAULTS,
  trainSplits: [] as string[],
  valFraction: 0.15,
  init: '',
  seed: 0,
  sr: '',
} satisfies Required<WsssOptions>;

/** WSSS options with every default applied, nested option groups included. */
export interface ResolvedWsss extends Required<
  Omit<WsssOptions, 'stack' | 'net' | 'fit' | 'round0' | 'harvest'>
> {
  stack: Required<StackOptions>;
  net: Required<NetOptions>;
  fit: Required<FitSettings>;
  round0: Required<Round0LabelOptions>;
  harvest: Required<HarvestOptions>;
}

/** WSSS options with every default applied (the network's seed follows the job's seed unless given). */
export function resolveWsssOptions(options: WsssOptions = {}): ResolvedWsss {
  // the merge is deep and every group of WSSS_DEFAULTS is complete, so the groups are complete too
  const o = resolveOptions(WSSS_DEFAULTS, options) as ResolvedWsss;
  return { ...o, net: { ...o.net, seed: options.net?.seed ?? o.seed } };
}

/** Progress and log hooks of the orchestrator (the CLI turns them into bars and lines). */
export interface WsssHooks {
  stage?: (name: string, total: number) => void;
  tick?: (done: number, status?: string) => void;
  stageEnd?: (name: string, seconds: number, info?: Record<string, unknown>) => void;
  epoch?: (round: number, e: EpochRecord) => void;
  /** One line about a decision (a stage reused or rerun, a lesion left out of training). */
  log?: (message: string) => void;
}

export interface RoundInfo {
  round: number;
  labels: number;
  harvest?: HarvestStats | undefined;
  epochs: number;
  bestValDice: number;
  /** The round's model was reused from an earlier run. */
  resumed: boolean;
}

export interface WsssResult {
  net: SegNet;
  stacks: LesionStack[];
  /** Lesions whose stack could not be built (unreadable image, bad RECIST). */
  failures: { record: LesionRecord; error: Recist3dError }[];
  /** Lesions left out of training (no readable mask under `labels: 'full'`), still segmented. */
  excluded: { lesionId: string; code: string; message: string }[];
  rounds: RoundInfo[];
  /** Labels used in the last training round, per lesion id (for QC: fallback counts). */
  labelSources: Map<string, string[]>;
  stageSeconds: Record<string, number>;
  /** How the network's inputs are made (as in its checkpoint sidecar). */
  input: CheckpointInput;
}

/**
 * Trains the self-paced model for `records`, writing its artifacts under `outDir`. In a joined process group
 * (docs/distributed.md) this rank builds the stacks, labels and harvests of its own lesions (LesionShards),
 * every rank trains data-parallel on all of them, and rank 0 writes the markers and checkpoints; `stacks` and
 * `failures` are then this rank's own.
 */
export async function trainWsss(
  records: readonly LesionRecord[],
  outDir: string,
  options: WsssOptions = {},
  hooks: WsssHooks = {},
): Promise<WsssResult> {
  const o = resolveWsssOptions(options);
  const clock = stageClock(hooks);
  const shards = lesionShards(records);
  const mine = shards ? shards.mine(records) : records;
  // a missing or unfinished SR folder fails before any work
  const { built, sr } = await withSrModels(o, async (models) => {
    const b = await clock.timed('stacks', mine.length, () =>
      buildStacks(mine, o.stack, (d) => hooks.tick?.(d)),
    );
    return {
      built: b,
      sr: await srChannels(
        b.flatMap((r) => (r.ok ? [r.stack] : [])),
        models,
        srCache(outDir, shards),
        clock,
        hooks,
      ),
    };
  });
  const stacks = built.flatMap((r) => (r.ok ? [r.stack] : []));
  const failures = built.flatMap((r) => (r.ok ? [] : [{ record: r.record, error: r.error }]));
  const cohort = shards
    ? await shardedCohort(records, failures, shards, outDir, o)
    : { trainable: stacks.filter((s) => inTrainingSplits(s.record, o)).map((s) => s.record.lesionId) };
  if (cohort.trainable.length === 0) {
    const loaded = shards ? records.length - (cohort.failed ?? 0) : stacks.length;
    throw noLesionToTrain(records.length, loaded, failures, o);
  }
  const result = await trainOnStacks(stacks, cohortKey(records), records.length, outDir, o, hooks, clock, {
    ...cohort,
    shards,
    records,
    sr,
  });
  return { ...result, failures };
}

/** What the ranks of a distributed job know of the whole cohort after building their stacks. */
interface CohortView {
  /** Lesion ids trained on, in manifest order (all ranks). */
  trainable: string[];
  /** Lesions whose stack failed, over all ranks. */
  failed?: number;
  shards?: LesionShards | undefined;
  records?: readonly LesionRecord[];
  /** The SR models whose images the stacks carry (null: no SR channels). */
  sr?: CheckpointSr | null;
}

/** Runs `fn` with the stacked GAN of `o.sr` loaded (undefined without SR), and frees it afterwards. */
async function withSrModels<T>(
  o: ResolvedWsss,
  fn: (models: LoadedSr | undefined) => Promise<T>,
): Promise<T> {
  const models = o.sr ? await openSr(o.sr) : undefined;
  try {
    return await fn(models);
  } finally {
    models?.dispose();
  }
}

/**
 * With SR models: sets the denoised and enhanced images on every stack and returns the models' identity;
 * without: null. The images come from the cache `cache` (.bin/.json, see sr/stack-cache.ts) when it holds
 * those of the same models and stacks, else from the networks (stage `sr`, one progress tick per native call),
 * and are then written to it.
 */
async function srChannels(
  stacks: readonly LesionStack[],
  sr: LoadedSr | undefined,
  cache: string,
  clock: StageClock,
  hooks: WsssHooks,
): Promise<CheckpointSr | null> {
  if (!sr) return null;
  const key = srImagesKey(stacks, sr.identity);
  if (await loadSrImages(cache, key, stacks)) {
    hooks.log?.(`[sr] the SR images of an earlier run, same models and stacks, reused (${cache}.bin)`);
    return sr.identity;
  }
  await clock.timed('sr', stackSliceCount(stacks), () =>
    addSrChannels(stacks, sr, (done) => hooks.tick?.(done)),
  );
  await saveSrImages(cache, key, stacks);
  return sr.identity;
}

/** Where a job keeps the SR images of its stacks (one file per rank in a distributed job). */
function srCache(outDir: string, shards: LesionShards | undefined): string {
  const base = join(outDir, 'work', 'sr-images');
  return shards ? shards.shardBase(base) : base;
}

/** The ranks exchange which of their lesions failed to load; every rank then knows the trainable lesions. */
async function shardedCohort(
  records: readonly LesionRecord[],
  failures: WsssResult['failures'],
  shards: LesionShards,
  outDir: string,
  o: ResolvedWsss,
): Promise<CohortView> {
  const failed = (
    await shards.exchange(
      join(outDir, 'work', 'shards'),
      'stacks',
      failures.map((f) => f.record.lesionId),
    )
  ).flat();
  const gone = new Set(failed);
  return {
    trainable: records.filter((r) => !gone.has(r.lesionId) && inTrainingSplits(r, o)).map((r) => r.lesionId),
    failed: gone.size,
  };
}

/** Like `trainWsss` on stacks built beforehand (cross-validation folds); the cohort is the stacks' lesions. */
export async function trainWsssOnStacks(
  stacks: readonly LesionStack[],
  outDir: string,
  options: WsssOptions = {},
  hooks: WsssHooks = {},
): Promise<WsssResult> {
  const records = stacks.map((s) => s.record);
  const o = resolveWsssOptions(options);
  const clock = stageClock(hooks);
  const sr = await withSrModels(o, (models) =>
    srChannels(stacks, models, srCache(outDir, undefined), clock, hooks),
  );
  const result = await trainOnStacks(stacks, cohortKey(records), records.length, outDir, o, hooks, clock, {
    trainable: stacks.filter((s) => inTrainingSplits(s.record, o)).map((s) => s.record.lesionId),
    sr,
  });
  return { ...result, failures: [] };
}

async function trainOnStacks(
  stacks: readonly LesionStack[],
  cohort: string,
  lesions: number,
  outDir: string,
  o: ResolvedWsss,
  hooks: WsssHooks,
  clock: StageClock,
  view: CohortView,
): Promise<Omit<WsssResult, 'failures'>> {
  const job = new Job(outDir, o, [...stacks], hooks, clock, view);
  await job.runner.bindCohort(cohort, lesions);
  const net = await job.train();
  return {
    net,
    stacks: [...stacks],
    excluded: job.excluded,
    rounds: job.rounds,
    labelSources: job.labelSources(),
    stageSeconds: clock.seconds,
    input: job.input,
  };
}

/** Identity of a cohort: its lesions, images, key slices and RECIST marks. */
export function cohortKey(records: readonly LesionRecord[]): string {
  return stageKey(records.map((r) => [r.lesionId, r.imagePath, r.keySlice, r.recist]));
}

/** The stages of one job, run in order through one StageRunner. */
class Job {
  readonly runner: StageRunner;
  readonly rounds: RoundInfo[] = [];
  excluded: WsssResult['excluded'] = [];
  readonly input: CheckpointInput;
  /** How the network's inputs are made (from `input`). */
  readonly layout: InputLayout;
  #labels: HarvestedLabel[] = [];
  readonly #trainable: LesionStack[];
  readonly #byId: Map<string, LesionStack>;
  readonly #size: number;
  /** Key of the trained-on lesions (all ranks' in a distributed job). */
  readonly #trainableKey: string;
  readonly #shards: LesionShards | undefined;
  /** Manifest position of every lesion (merge order of the ranks' labels). */
  readonly #order: Map<string, number>;
  /** Patient of every lesion (training samples of other ranks' lesions). */
  readonly #patients: Map<string, string>;

  constructor(
    readonly outDir: string,
    readonly o: ResolvedWsss,
    stacks: LesionStack[],
    readonly hooks: WsssHooks,
    readonly clock: StageClock,
    view: CohortView,
  ) {
    const engine = engineInfo();
    const versions = { torch: engine.torchVersion, opencv: engine.opencvVersion };
    const shards = view.shards;
    const shared: SharedRunner | undefined = shards && {
      writer: shards.writer,
      agree: async (reuse, stage) => (await shards.sync(`agreeing on ${stage}`, [reuse ? 0 : 1]))[0] === 0,
    };
    this.runner = new StageRunner(join(outDir, 'work'), versions, { log: (m) => hooks.log?.(m) }, shared);
    this.#shards = shards;
    this.#trainable = stacks.filter((s) => inTrainingSplits(s.record, o));
    this.#trainableKey = stageKey(view.trainable);
    this.#byId = new Map(stacks.map((s) => [s.record.lesionId, s]));
    const records = view.records ?? stacks.map((s) => s.record);
    this.#order = new Map(records.map((r, i) => [r.lesionId, i]));
    this.#patients = new Map(records.map((r) => [r.lesionId, r.patientId ?? r.lesionId]));
    this.#size = shards ? o.stack.roiSize : (stacks[0]?.keyRoi.geometry.sizePx ?? o.stack.roiSize);
    this.input = {
      roiScale: o.stack.roiScale,
      padMode: o.stack.padMode,
      window: 'record-or-category',
      categoryWindows: o.stack.windows,
      prior: o.net.recistPrior ? 'recist-ellipse' : 'none',
      context: o.net.context,
      sr: view.sr ?? null,
    };
    this.layout = inputLayoutOf(this.input);
  }

  /** The SR models in a stage's settings: only with SR, so the keys of jobs without it stay as they were. */
  #srSettings(): { sr?: CheckpointSr } {
    return this.input.sr ? { sr: this.input.sr } : {};
  }

  /** Round-0 labels, then training and harvests round by round; returns the last round's network. */
  async train(): Promise<SegNet> {
    const labels0 = await this.#round0Labels();
    const net = await createNet(this.#size, this.o.net, this.layout.sr);
    try {
      this.#labels = labels0;
      for (let round = 0; round <= this.o.rounds; round++) {
        let harvest: HarvestStats | undefined;
        if (round > 0) {
          const h = await this.#harvest(net, round);
          harvest = h.stats;
          this.#labels = [...labels0, ...h.labels];
        }
        await this.#trainRound(net, round, harvest);
      }
      await this.#writeFinalModel(net);
      return net;
    } catch (e) {
      net.dispose();
      throw e;
    }
  }

  labelSources(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const l of this.#labels) m.set(l.lesionId, [...(m.get(l.lesionId) ?? []), l.source]);
    return m;
  }

  async #round0Labels(): Promise<HarvestedLabel[]> {
    const o = this.o;
    const stacks = this.#trainable;
    const base = join(this.runner.workDir, 'labels-r0');
    const make = async () => {
      const truth = o.labels === 'full' ? await this.#keyTruth(stacks) : new Map<string, Uint8Array>();
      return this.clock.timed('labels-r0', stacks.length, () =>
        initialLabels(stacks, o.labels, (s) => truth.get(s.record.lesionId), o.round0),
      );
    };
    const { value } = await this.runner.run({
      name: 'labels-r0',
      settings: {
        kind: o.labels,
        round0: o.round0,
        stack: o.stack,
        trainable: this.#trainableKey,
        // a distributed job stores the network inputs with the labels, SR channels included
        ...this.#srSettings(),
      },
      seed: o.seed,
      produce: async (key) => {
        if (this.#shards) {
          const { labels, infos } = await this.#sharded('labels-r0', key, base, async () => ({
            labels: await make(),
            info: { excluded: this.excluded },
          }));
          this.excluded = infos.flatMap((e) => (e as { excluded: Job['excluded'] }).excluded);
          return labels;
        }
        const labels = await make();
        await saveLabels(base, this.#size, labels);
        return labels;
      },
      load: async (m) => this.#loadLabelStage(base, m),
      info: (labels) => ({ labels: labels.length, ...this.#shardInfo() }),
    });
    if (value.length === 0) throw noTrainingLabels(stacks, o.labels);
    return value;
  }

  /** `shards: W` in a distributed job's markers: the stage's labels are in W per-rank files. */
  #shardInfo(): Record<string, unknown> {
    return this.#shards ? { shards: this.#shards.worldSize } : {};
  }

  /**
   * A sharded label stage of a distributed job: this rank makes and saves the labels of its own lesions (with
   * their network inputs) unless its shard marker already holds `key` (a relaunch after a kill), then every
   * rank reads all ranks' labels, merged in manifest order: the labels a single process makes, in its order.
   * Returns them and every rank's `info`.
   */
  async #sharded(
    stage: string,
    key: string,
    base: string,
    make: () => Promise<{ labels: HarvestedLabel[]; info: Record<string, unknown> }>,
  ): Promise<{ labels: HarvestedLabel[]; infos: Record<string, unknown>[] }> {
    const shards = this.#shards!;
    const marker = join(this.runner.workDir, `.done-${shards.shardBase(stage)}.json`);
    type ShardMarker = { key?: string; info?: Record<string, unknown> };
    const held = await readJson<ShardMarker>(marker).catch((): ShardMarker => ({}));
    let info: Record<string, unknown>;
    const files = ['.json', '.bin'].map((ext) => `${shards.shardBase(base)}${ext}`);
    const kept = (await Promise.all(files.map((f) => exists(f)))).every(Boolean);
    if (held.key === key && held.info && kept) {
      info = held.info;
      this.hooks.log?.(`[${stage}] this rank's shard finished earlier; reused`);
    } else {
      const made = await make();
      const c = inputChannels(this.layout);
      const withInputs = made.labels.map((l) => {
        const x = new Float32Array(c * this.#size * this.#size);
        stackInput(this.#byId.get(l.lesionId)!, l.k, this.layout, x);
        return { ...l, x };
      });
      await saveLabels(shards.shardBase(base), this.#size, withInputs);
      info = made.info;
      await writeJsonAtomic(marker, { key, info });
    }
    const all = await shards.exchange(join(this.runner.workDir, 'shards'), `${stage}-done`, { key, info });
    if (all.some((a) => a.key !== key)) {
      throw new Recist3dError('E_DIST', `the ranks disagree on the settings of stage ${stage}`);
    }
    return { labels: await this.#loadShards(base, shards.worldSize), infos: all.map((a) => a.info) };
  }

  /** The labels of all `worldSize` shards of `base`, merged in manifest order. */
  async #loadShards(base: string, worldSize: number): Promise<HarvestedLabel[]> {
    const parts: HarvestedLabel[][] = [];
    for (let r = 0; r < worldSize; r++) {
      const b = `${base}.rank${r}-of-${worldSize}`;
      await waitForFile(`${b}.json`, r);
      parts.push((await loadLabels(b)).labels);
    }
    const order = (l: HarvestedLabel) => this.#order.get(l.lesionId) ?? Number.MAX_SAFE_INTEGER;
    // a stable sort: within a lesion the rank's own order stays (as a single process makes them)
    return parts.flat().sort((a, b) => order(a) - order(b));
  }

  /** A finished label stage's labels: from W shards, or from the one file a single process wrote. */
  async #loadLabelStage(base: string, m: StageMarker): Promise<HarvestedLabel[]> {
    const shards = Number(m.info.shards ?? 0);
    if (shards > 0) return this.#loadShards(base, shards);
    const labels = (await loadLabels(base)).labels;
    if (this.#shards) {
      // written by a single process: no network inputs for the lesions whose stacks other ranks hold
      throw new Recist3dError(
        'E_PIPELINE',
        `${base}.bin was written by a single process and holds no network inputs, which a distributed job needs`,
        { file: `${base}.bin` },
      );
    }
    return labels;
  }

  /** The RECIST-slice ground truth of each stack on its ROI; unreadable masks leave the lesion out (reported). */
  async #keyTruth(stacks: readonly LesionStack[]): Promise<Map<string, Uint8Array>> {
    const truth = new Map<string, Uint8Array>();
    for (const s of stacks) {
      try {
        if (!s.record.maskPath)
          throw new Recist3dError('E_FILE_NOT_FOUND', 'the manifest gives no mask for this lesion');
        const m = await readMask(s.record.maskPath);
        const plane = m.size[0] * m.size[1];
        const key = m.data.subarray(s.record.keySlice * plane, (s.record.keySlice + 1) * plane);
        truth.set(s.record.lesionId, sliceMaskToRoi(key, s.keyRoi.geometry));
      } catch (e) {
        const err = asLesionError(e, s.record);
        this.excluded.push({ lesionId: s.record.lesionId, code: err.code, message: err.message });
        this.hooks.log?.(`lesion ${s.record.lesionId} left out of training (--labels full): ${err.message}`);
      }
    }
    return truth;
  }

  async #harvest(net: SegNet, round: number): Promise<{ labels: HarvestedLabel[]; stats: HarvestStats }> {
    const base = join(this.runner.workDir, `labels-r${round}`);
    const stage = `labels-r${round}`;
    const make = () =>
      this.clock.timed(`harvest-r${round}`, this.#trainable.length, () =>
        harvestRound(net, this.#trainable, round, { ...this.o.harvest, layout: this.layout }),
      );
    const { value } = await this.runner.run({
      name: stage,
      settings: { round, harvest: this.o.harvest },
      seed: this.o.seed,
      produce: async (key) => {
        if (this.#shards) {
          const { labels, infos } = await this.#sharded(stage, key, base, async () => {
            const h = await make();
            return { labels: h.labels, info: { ...h.stats } };
          });
          return { labels, stats: sumStats(infos as unknown as HarvestStats[]) };
        }
        const h = await make();
        await saveLabels(base, this.#size, h.labels);
        return h;
      },
      load: async (m: StageMarker) => {
        const { shards: _s, ...stats } = m.info;
        return { labels: await this.#loadLabelStage(base, m), stats: stats as unknown as HarvestStats };
      },
      info: (h) => ({ ...h.stats, ...this.#shardInfo() }),
    });
    return value;
  }

  async #trainRound(net: SegNet, round: number, harvest: HarvestStats | undefined): Promise<void> {
    const o = this.o;
    const fit = round === 0 ? o.fit : resolveOptions(o.fit, o.fineTune);
    const ckpt = join(this.outDir, 'rounds', `round${round}`);
    const { value, reused } = await this.runner.run({
      name: `train-r${round}`,
      settings: {
        round,
        net: o.net,
        fit,
        valFraction: o.valFraction,
        init: round === 0 ? o.init : '',
        ...this.#srSettings(),
      },
      seed: o.seed + round,
      produce: (key) => this.#fitRound(net, round, fit, ckpt, key),
      load: () => loadRound(net, ckpt),
      info: ({ history: _h, ...rest }) => rest,
    });
    this.#history.push(...value.history.map((e) => ({ round, ...e })));
    this.rounds.push({
      round,
      labels: this.#labels.length,
      harvest,
      epochs: value.epochs,
      bestValDice: value.bestValDice,
      resumed: reused,
    });
  }

  /** Trains one round (resuming its last finished epoch when `key` matches) and writes its checkpoint. */
  async #fitRound(
    net: SegNet,
    round: number,
    fit: FitSettings,
    ckpt: string,
    key: string,
  ): Promise<RoundTraining> {
    const o = this.o;
    if (round === 0 && o.init) {
      const init = await initWeightsPath(o.init);
      await verifyCheckpoint(init.replace(/\.pt$/, ''));
      await net.load(init);
    }
    const options = {
      fit: { ...fit, seed: o.seed + round },
      valFraction: o.valFraction,
      input: this.input,
      resumeKey: key,
      ...(this.#shards ? { patients: this.#patients, writer: this.#shards.writer } : {}),
    };
    const r = await this.clock.timed(`train-r${round}`, fit.maxEpochs ?? 0, () =>
      trainStage(net, this.#labels, this.#byId, ckpt, options, (e) => {
        this.hooks.tick?.(e.epoch, `loss ${e.trainLoss.toFixed(4)} val Dice ${e.valDice.toFixed(3)}`);
        this.hooks.epoch?.(round, e);
      }),
    );
    if (r.resumedEpochs) this.hooks.log?.(`[train-r${round}] resumed after epoch ${r.resumedEpochs}`);
    return {
      epochs: r.fit.history.length,
      bestEpoch: r.fit.bestEpoch,
      bestValDice: r.fit.bestValDice,
      history: r.fit.history,
    };
  }

  readonly #history: (EpochRecord & { round: number })[] = [];

  /** `model.pt/.json`: the last round's network, and the training curve of every round. */
  async #writeFinalModel(net: SegNet): Promise<void> {
    if (!this.runner.writer) return;
    const last = await readSidecar(join(this.outDir, 'rounds', `round${this.o.rounds}`));
    await saveCheckpoint(net, join(this.outDir, 'model'), {
      input: this.input,
      metrics: { ...last.metrics, rounds: this.rounds.map(({ harvest: _h, ...r }) => r) },
      extra: {
        rounds: this.o.rounds,
        labels: this.o.labels,
        init: this.o.init,
        seed: this.o.seed,
        ...(this.o.sr ? { sr: this.o.sr } : {}),
      },
    });
    await writeFileAtomic(
      join(this.outDir, 'training-curve.svg'),
      trainingCurveSvg(this.#history, this.o.net.arch),
    );
  }
}

/** What a finished training round reports (from its run, or from its checkpoint's sidecar). */
interface RoundTraining {
  epochs: number;
  bestEpoch: number;
  bestValDice: number;
  history: EpochRecord[];
}

/** Loads a finished round's weights into `net` and reads how its training went from the sidecar. */
async function loadRound(net: SegNet, ckpt: string): Promise<RoundTraining> {
  const side = await readSidecar(ckpt);
  await verifyWeights(`${ckpt}.pt`, side);
  await net.load(`${ckpt}.pt`);
  const m = side.metrics as Partial<RoundTraining>;
  return {
    epochs: m.epochs ?? 0,
    bestEpoch: m.bestEpoch ?? 0,
    bestValDice: m.bestValDice ?? Number.NaN,
    history: m.history ?? [],
  };
}

/** Whether a lesion is trained on: every lesion, or those of `trainSplits`. */
function inTrainingSplits(r: LesionRecord, o: ResolvedWsss): boolean {
  return o.trainSplits.length === 0 || o.trainSplits.includes(r.split ?? '');
}

/** The ranks' harvest counts, summed. */
function sumStats(parts: readonly HarvestStats[]): HarvestStats {
  const sum = (f: (h: HarvestStats) => number) => parts.reduce((a, h) => a + f(h), 0);
  return {
    slices: sum((h) => h.slices),
    cnnFound: sum((h) => h.cnnFound),
    grabCutFallbacks: sum((h) => h.grabCutFallbacks),
    skippedVanished: sum((h) => h.skippedVanished),
  };
}

/** Said before any training when no lesion could be loaded, or none is in the training splits. */
function noLesionToTrain(
  lesions: number,
  loaded: number,
  failures: WsssResult['failures'],
  o: ResolvedWsss,
): Recist3dError {
  return new Recist3dError(
    'E_PIPELINE',
    loaded === 0
      ? `No lesion left to train on: all ${lesions} lesion(s) failed before training (${summarizeFailures(failures)})`
      : `No lesion left to train on: none of the ${loaded} usable lesion(s) is in the training splits ${o.trainSplits.join(', ')}`,
  );
}

/** Said when round 0 gave no label at all (under --labels full: no readable reference mask). */
function noTrainingLabels(stacks: readonly LesionStack[], labels: string): Recist3dError {
  const noMask = stacks.filter((s) => !s.record.maskPath).length;
  return new Recist3dError(
    'E_PIPELINE',
    `No lesion left to train on: --labels ${labels} gave no training label for the ${stacks.length} usable lesion(s)` +
      (labels === 'full'
        ? `; it needs a readable reference mask in the manifest's mask column (${noMask} of them have none, ` +
          `${stacks.length - noMask} could not be read)`
        : ''),
  );
}

/** `init`: a .pt file, a checkpoint base (`X` for `X.pt`) or a model folder (its `model.pt`). */
export async function initWeightsPath(init: string): Promise<string> {
  for (const p of [init, `${init}.pt`, join(init, 'model.pt')]) {
    if (p.endsWith('.pt') && (await exists(p))) return p;
  }
  throw new Recist3dError(
    'E_FILE_NOT_FOUND',
    `No weights found for --init ${init} (tried X, X.pt, X/model.pt)`,
    {
      file: init,
    },
  );
}

/** Training loss and validation Dice per epoch (rounds one after another) as an SVG line chart. */
export function trainingCurveSvg(
  history: readonly (EpochRecord & { round?: number })[],
  arch: string,
): string {
  const x = history.map((_, i) => i + 1);
  return lineChart(
    [
      { name: 'train loss', points: history.map((e, i) => [x[i], e.trainLoss]) },
      { name: 'validation Dice (vs training labels)', points: history.map((e, i) => [x[i], e.valDice]) },
    ],
    {
      title: `${arch} training${history.some((e) => (e.round ?? 0) > 0) ? ' (self-paced rounds one after another)' : ''}`,
      xLabel: 'epoch',
      yLabel: 'loss / Dice',
      yRange: [0, Math.max(1, ...history.map((e) => e.trainLoss))],
    },
  );
}

interface StageClock {
  seconds: Record<string, number>;
  timed<T>(name: string, total: number, fn: () => Promise<T>): Promise<T>;
}

/** Times stages into `seconds` and drives the progress hooks. */
function stageClock(hooks: WsssHooks): StageClock {
  const seconds: Record<string, number> = {};
  return {
    seconds,
    async timed(name, total, fn) {
      hooks.stage?.(name, total);
      const t0 = performance.now();
      const r = await fn();
      const s = (performance.now() - t0) / 1000;
      seconds[name] = (seconds[name] ?? 0) + s;
      hooks.stageEnd?.(name, s);
      return r;
    },
  };
}
