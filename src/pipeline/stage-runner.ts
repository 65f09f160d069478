/**
 * One stage runner for `train` and `run` (and the experiment drivers). A job is a chain of stages; each stage
 * writes its artifacts atomically and then a marker `work/.done-<stage>.json`. The marker holds the stage's
 * key: the SHA-1 of the recist3d version, the key of the stage before it, the stage's name and its own
 * code-relevant settings (the resolved options, defaults included). The rule, for every stage in order:
 *
 * - its marker exists with the same key: the stage is reused (its artifacts are loaded);
 * - otherwise the stage runs, and so does every stage after it (their keys chain). The runner says why: no
 *   marker, which setting changed (old -> new), a new recist3d version, or an earlier stage that reran.
 *   A stage that was killed part-way resumes its own partial state only where that state carries the same
 *   key (training resumes at its last finished epoch, see steps/3-train.ts).
 * - a folder that holds a job of another cohort (the manifest's lesions, images, key slices or RECIST
 *   differ) is refused with E_CONFIG: rerunning would replace another cohort's trained models. `--force`
 *   (or another `--out`) starts over.
 *
 * Markers also record the git revision, the versions of recist3d, Node, libtorch and OpenCV, the seed, and
 * when the stage started and finished.
 *
 * In a distributed job (`shared`) every rank runs the same chain over the shared folder and decides from the
 * same markers; only rank 0 writes markers and cohort.json, and the ranks agree (an all-reduce) on reusing
 * each stage, so that one rank that cannot read an artifact makes all of them run the stage again.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import { exists, readJson, writeJsonAtomic } from '../util/fs.js';
import { gitRevision, packageVersion } from '../util/provenance.js';

const MARKER_FORMAT = 'recist3d-stage-2';

export interface StageMarker {
  format: typeof MARKER_FORMAT;
  stage: string;
  /** Hex key of (version, upstream key, stage, settings); a different key means the stage must rerun. */
  key: string;
  /** Key of the stage before this one ('' for the first). */
  upstream: string;
  /** The stage's own settings, as hashed into the key. */
  settings: unknown;
  recist3d: string;
  versions: Record<string, string>;
  gitRevision: string;
  seed: number | null;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** What the stage reports about itself (counts, scores). */
  info: Record<string, unknown>;
}

export interface StageSpec<T> {
  /** Marker name: `work/.done-<name>.json`. */
  name: string;
  /** Everything of this stage's own options that changes its artifacts (resolved, defaults included). */
  settings: unknown;
  seed?: number;
  /** Runs the stage and writes its artifacts; `key` tags partial state (e.g. per-epoch checkpoints). */
  produce(key: string): Promise<T>;
  /** Reads the artifacts of the finished stage. */
  load(marker: StageMarker): Promise<T>;
  /** What goes into the marker's `info`. */
  info?(value: T): Record<string, unknown>;
}

export interface StageOutcome<T> {
  value: T;
  /** The stage was reused from an earlier run. */
  reused: boolean;
  marker: StageMarker;
}

export interface StageRunnerHooks {
  /** One line about a decision (why a stage reruns). */
  log?: (message: string) => void;
}

/** A stage chain run by every rank of a distributed job over one shared folder. */
export interface SharedRunner {
  /** This rank writes markers and cohort.json (rank 0). */
  writer: boolean;
  /** Resolves true when every rank passed true (an all-reduce). */
  agree(reuse: boolean, stage: string): Promise<boolean>;
}

/** The first 16 hex digits of the SHA-1 of `value` as JSON (key order counts). */
export function stageKey(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** Runs the stages of one job in `workDir`, in the order they are called. */
export class StageRunner {
  readonly workDir: string;
  readonly #versions: Record<string, string>;
  readonly #hooks: StageRunnerHooks;
  readonly #shared: SharedRunner | undefined;
  #upstream = '';
  #rerunning = false;

  /** `versions` go into every marker; `versions.recist3d` (default: the package version) also into the keys. */
  constructor(
    workDir: string,
    versions: Record<string, string> = {},
    hooks: StageRunnerHooks = {},
    shared?: SharedRunner,
  ) {
    this.workDir = workDir;
    this.#versions = { node: process.version, ...versions };
    this.#hooks = hooks;
    this.#shared = shared;
  }

  /** This process writes the markers (a single process, or rank 0 of a distributed job). */
  get writer(): boolean {
    return this.#shared?.writer ?? true;
  }

  /**
   * Binds the folder to a cohort: the first job writes `work/cohort.json`; a later job with another cohort key
   * is refused (E_CONFIG). The cohort key is also the first link of the stage chain.
   */
  async bindCohort(cohortKey: string, lesions: number): Promise<void> {
    const path = join(this.workDir, 'cohort.json');
    if (await exists(path)) {
      const held = await readJson<{ key?: string; lesions?: number }>(path).catch(
        () => ({}) as { key?: string },
      );
      if (held.key !== cohortKey) {
        throw new Recist3dError(
          'E_CONFIG',
          `${this.workDir} belongs to a job on another cohort (${(held as { lesions?: number }).lesions ?? '?'} lesions; ` +
            `the manifest's lesions, images, key slices or RECIST differ). Choose another --out or pass --force to start over`,
          { file: path },
        );
      }
    } else if (this.writer) {
      await writeJsonAtomic(path, { key: cohortKey, lesions, createdAt: new Date().toISOString() });
    }
    this.#upstream = cohortKey;
  }

  /** Runs or reuses one stage (see the module comment for the rule). */
  async run<T>(spec: StageSpec<T>): Promise<StageOutcome<T>> {
    const recist3d = this.#versions.recist3d ?? packageVersion();
    const upstream = this.#upstream;
    const key = stageKey({
      format: MARKER_FORMAT,
      recist3d,
      upstream,
      stage: spec.name,
      settings: spec.settings,
    });
    this.#upstream = key;
    const held = await this.#readMarker(this.markerPath(spec.name));
    let why: string | undefined;
    if (held)
      why = this.#rerunning
        ? 'an earlier stage ran again'
        : changeReason(held, key, recist3d, upstream, spec.settings);
    let loaded: { value: T } | undefined;
    if (held && !why) {
      try {
        loaded = { value: await spec.load(held) };
      } catch (e) {
        why = `its artifacts are unreadable (${e instanceof Error ? e.message : String(e)})`;
      }
    }
    if (this.#shared && held && !(await this.#shared.agree(loaded !== undefined, spec.name))) {
      why ??= 'another rank could not reuse it';
      loaded = undefined;
    }
    if (held && loaded) {
      this.#hooks.log?.(`[${spec.name}] finished earlier (${held.finishedAt}); reused`);
      return { value: loaded.value, reused: true, marker: held };
    }
    if (why) this.#hooks.log?.(`[${spec.name}] runs again: ${why}`);
    this.#rerunning = true;
    return this.#produce(spec, key, upstream, recist3d);
  }

  async #produce<T>(
    spec: StageSpec<T>,
    key: string,
    upstream: string,
    recist3d: string,
  ): Promise<StageOutcome<T>> {
    const startedAt = new Date();
    const value = await spec.produce(key);
    const marker: StageMarker = {
      format: MARKER_FORMAT,
      stage: spec.name,
      key,
      upstream,
      settings: spec.settings,
      recist3d,
      versions: this.#versions,
      gitRevision: gitRevision(),
      seed: spec.seed ?? null,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      info: spec.info?.(value) ?? {},
    };
    if (this.writer) await writeJsonAtomic(this.markerPath(spec.name), marker);
    return { value, reused: false, marker };
  }

  markerPath(stage: string): string {
    return join(this.workDir, `.done-${stage}.json`);
  }

  /** A marker of this format, or undefined (absent, unreadable or of an older format: the stage reruns). */
  async #readMarker(path: string): Promise<StageMarker | undefined> {
    if (!(await exists(path))) return undefined;
    const m = await readJson<Partial<StageMarker>>(path).catch(() => undefined);
    if (m?.format !== MARKER_FORMAT) {
      this.#hooks.log?.(`[${path}] is unreadable or from an older recist3d; the stage runs again`);
      return undefined;
    }
    return m as StageMarker;
  }
}

/** Why a finished stage's marker does not match (undefined when it does): version, upstream or settings. */
function changeReason(
  held: StageMarker,
  key: string,
  recist3d: string,
  upstream: string,
  settings: unknown,
): string | undefined {
  if (held.key === key) return undefined;
  if (held.recist3d !== recist3d) return `recist3d ${held.recist3d} -> ${recist3d}`;
  if (held.upstream !== upstream) return 'an earlier stage or the cohort changed';
  const diffs = settingDiffs(held.settings, settings);
  return diffs.length ? diffs.slice(0, 5).join(', ') : 'its settings changed';
}

/** `path old -> new` for every leaf that differs between two JSON values. */
export function settingDiffs(a: unknown, b: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => settingDiffs(a[k], b[k], path ? `${path}.${k}` : k));
  }
  const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
  return ja === jb ? [] : [`${path || 'settings'} ${ja ?? 'unset'} -> ${jb ?? 'unset'}`];
}
