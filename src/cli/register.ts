import type { Command } from 'commander';

/** What every command module exports: adds its subcommand (options, help, action) to the program. */
export type Register = (program: Command) => void;
