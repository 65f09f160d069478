import { Recist3dError } from '../errors.js';

/** Parses a numeric CLI option or throws E_USAGE naming it. */
export function numberOption(v: string, name: string, min: number, max = Infinity, integer = false): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x >= min && x <= max) || (integer && !Number.isInteger(x))) {
    throw new Recist3dError(
      'E_USAGE',
      `Expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}] for --${name} but received "${v}"`,
    );
  }
  return x;
}

/** Parses a choice option or throws E_USAGE listing the choices. */
export function choiceOption<T extends string>(v: string, name: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(v)) {
    throw new Recist3dError(
      'E_USAGE',
      `Expected one of ${choices.join(', ')} for --${name} but received "${v}"`,
    );
  }
  return v as T;
}

/** A comma-separated CLI list, trimmed, without empty entries. */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}
