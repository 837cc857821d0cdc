import type { ParseArgsConfig } from 'node:util';
import type { OperatorContext } from './context.js';

/**
 * One operator command, e.g. `school create`. To add one: write it in commands/<capability>.ts and list it
 * in commands/index.ts. `run` calls domain functions with `ctx.deps` and `ctx.actor` (so every change is
 * audited as the operator's) and returns what to print on stdout as JSON; `ctx.say` talks to the person.
 * Throw UsageError for a wrong command line (exit 2), anything else for a failure (exit 1).
 */
export interface OperatorCommand {
  /** The words after `npm run operator --`: 'school create', 'audit'. */
  name: string;
  /** The arguments after the name, for the usage text: '--code <10 digits> --name <name>'. */
  args: string;
  summary: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  run(ctx: OperatorContext, input: OperatorInput): Promise<unknown>;
}

export interface OperatorInput {
  /** Positional arguments after the command's name (e.g. the school code of `school show <code>`). */
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** A string option or a UsageError naming it. */
export function required(input: OperatorInput, name: string): string {
  const value = input.values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A wrong command line: the usage is printed and the exit code is 2. */
export class UsageError extends Error {}
