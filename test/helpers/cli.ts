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
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  if (withStderr) {
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  }
  try {
    await program.parseAsync(['node', 'recist3d', ...args]);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  return { stdout: out.join(''), stderr: err.join('') };
}
