import { Command } from 'commander';

/** Registers one subcommand on a fresh program, e.g. `registerMasks`. */
export type Register = (program: Command) => void;

/**
 * Runs `recist3d <args>` on a program holding only the command `register` adds (exitOverride, so a usage error
 * throws instead of exiting) and returns what it wrote to stdout. Stderr passes through untouched.
 */
export async function runCli(register: Register, args: string[]): Promise<string> {
  return (await capture(register, args, false)).stdout;
}

/** Like `runCli`, but also captures (and silences) stderr. */
export async function runCliWithStderr(
  register: Register,
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  return capture(register, args, true);
}

async function capture(
  register: Register,
  args: string[],
  withStderr: boolean,
): Promise<{ stdout: string; stderr: string }> {
  const program = new Command().exitOverride();
  register(program);
  const out: string[] = [];
  const err: string[] = [];
  const [w1, w2] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  // the test runner reports to its parent process as Buffers on stdout: those pass through, or a test's
  // result written while a command runs would be lost; the commands write strings
  const grab =
    (sink: string[], real: typeof process.stdout.write) =>
    (s: string | Uint8Array, ...rest: unknown[]) =>
      typeof s === 'string' ? (sink.push(s), true) : (real as (...a: unknown[]) => boolean)(s, ...rest);
  process.stdout.write = grab(out, w1) as typeof process.stdout.write;
  if (withStderr) process.stderr.write = grab(err, w2) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'recist3d', ...args]);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  return { stdout: out.join(''), stderr: err.join('') };
}
