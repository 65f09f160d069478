/**
 * HNN-SR (paper section 3.4): the CNN's input becomes the original windowed ROI image plus its denoised (G1)
 * and enhanced (G2 on G1's output, zoom 1) versions. They are computed once per ROI stack slice, right after
 * the stacks are cut, in batches of same-size ROIs, and kept on the stack as 8-bit images like the original
 * (`srDenoised`, `srEnhanced`): the same quantisation as the original channel, a quarter of the memory of
 * float32, and what the training inputs and the label stores already hold per pixel.
 */
import { Recist3dError } from '../errors.js';
import type { CheckpointInput, CheckpointSr } from '../model/checkpoint.js';
import type { LesionStack } from '../types/stack.js';
import { superResolve8bit, type SrModels } from './apply.js';
import { loadSrModels } from './model-files.js';

/** A loaded stacked GAN with the identity a checkpoint records for it. */
export interface LoadedSr extends SrModels {
  dir: string;
  identity: CheckpointSr;
  dispose(): void;
}

/** Loads the trained G1 and G2 of `dir` (checked as `loadSrModels` does) with their weights' SHA-256. */
export async function openSr(dir: string): Promise<LoadedSr> {
  const m = await loadSrModels(dir);
  return {
    g1: m.g1,
    g2: m.g2,
    dir,
    identity: {
      g1Sha256: m.sidecars.g1.weights.sha256,
      g2Sha256: m.sidecars.g2.weights.sha256,
      channels: ['denoised', 'enhanced'],
    },
    dispose() {
      m.g1.dispose();
      m.g2.dispose();
    },
  };
}

/** ROI slices per native call (all of one size). */
const SLICES_PER_CALL = 64;

/** The number of slices of the stacks (what `addSrChannels` reports progress in). */
export function stackSliceCount(stacks: readonly LesionStack[]): number {
  return stacks.reduce((a, s) => a + s.images.length, 0);
}

/**
 * Sets `srDenoised` and `srEnhanced` on every stack that has none yet: the stacked GAN on all of their slices,
 * `SLICES_PER_CALL` same-size ROIs per native call. `onSlices(done, total)` after each call.
 */
export async function addSrChannels(
  stacks: readonly LesionStack[],
  sr: SrModels,
  onSlices: (done: number, total: number) => void = () => {},
): Promise<void> {
  const todo = stacks.filter((s) => !s.srDenoised || !s.srEnhanced);
  const r = await superResolve8bit(
    sr,
    todo.flatMap((s) => s.images.map((image) => ({ image, n: s.keyRoi.geometry.sizePx }))),
    SLICES_PER_CALL,
    onSlices,
  );
  let k = 0;
  for (const stack of todo) {
    stack.srDenoised = r.denoised.slice(k, k + stack.images.length);
    stack.srEnhanced = r.enhanced.slice(k, k + stack.images.length);
    k += stack.images.length;
  }
}

/**
 * Checks that the SR models given (`--sr DIR`, or none) are those a checkpoint's network was trained with:
 * an HNN-SR checkpoint needs --sr with the same G1 and G2 (their weights' SHA-256), a checkpoint without SR
 * channels refuses --sr. Different SR models would hand the network inputs it never saw, so a mismatch is an
 * error (E_CONFIG), not a warning. `sidecarFile` is named in the error with the field `input.sr`.
 */
export function checkSrMatches(
  input: Pick<CheckpointInput, 'sr'>,
  sr: Pick<LoadedSr, 'dir' | 'identity'> | undefined,
  sidecarFile: string,
): void {
  const detail = { file: sidecarFile, field: 'input.sr' };
  if (input.sr && !sr)
    throw new Recist3dError(
      'E_CONFIG',
      `The model was trained with SR channels (input.sr in ${sidecarFile}: G1 ${short(input.sr.g1Sha256)}, ` +
        `G2 ${short(input.sr.g2Sha256)}): pass --sr DIR with the stacked GAN it was trained with`,
      detail,
    );
  if (!input.sr && sr)
    throw new Recist3dError(
      'E_CONFIG',
      `--sr ${sr.dir} was given but the model takes no SR channels (input.sr is null or absent in ${sidecarFile}): leave out --sr, or use a model trained with --sr`,
      detail,
    );
  if (input.sr && sr) {
    const want = input.sr;
    const got = sr.identity;
    for (const stage of ['g1', 'g2'] as const) {
      const key = `${stage}Sha256` as const;
      if (want[key] !== got[key])
        throw new Recist3dError(
          'E_CONFIG',
          `--sr ${sr.dir}: its ${stage}.pt (SHA-256 ${short(got[key])}) is not the ${stage.toUpperCase()} the model was trained with ` +
            `(input.sr.${key} ${short(want[key])} in ${sidecarFile}); pass the stacked GAN folder the model was trained with`,
          { file: sidecarFile, field: `input.sr.${key}` },
        );
    }
  }
}

function short(sha: string): string {
  return `${sha.slice(0, 12)}...`;
}
