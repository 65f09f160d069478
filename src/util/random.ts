/**
 * A small seeded pseudo-random number generator (mulberry32 over a splitmix32-mixed seed).
 * Every random step in recist3d takes a seed and draws from one of these, so runs are reproducible.
 */
export interface Rng {
  /** The seed this generator was created with. */
  readonly seed: number;
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform float in [a, b). */
  uniform(a: number, b: number): number;
  /** Standard normal N(0, 1) (Box-Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A new independent generator derived from this one (e.g. one per lesion). */
  fork(): Rng;
}

/** Mixes an arbitrary number (or string) into a 32-bit seed. */
export function hashSeed(seed: number | string): number {
  let h = 0x811c9dc5;
  const s = typeof seed === 'number' ? String(seed) : seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // splitmix32 finaliser
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Creates a seeded generator. The same seed always gives the same sequence. */
export function createRng(seed: number | string = 0): Rng {
  let state = hashSeed(seed);
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    seed: typeof seed === 'number' ? seed : hashSeed(seed),
    next,
    uniform: (a, b) => a + (b - a) * next(),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor(next() * n),
    fork: () => createRng(Math.floor(next() * 4294967296)),
  };
  return rng;
}
