import { parseArgs } from 'node:util';
import { ConfigError } from '../../server/src/config.js';
import { DomainError } from '../../server/src/domain/errors.js';
import { UsageError, type OperatorCommand } from './command.js';
import { OPERATOR_COMMANDS } from './commands/index.js';
import { createOperatorContext, type OperatorIo } from './context.js';

export function usage(commands: readonly OperatorCommand[] = OPERATOR_COMMANDS): string {
  const lines = commands.map(
    (c) => `  npm run operator -- ${c.name}${c.args ? ` ${c.args}` : ''}\n      ${c.summary}`,
  );
  return `usage:\n${lines.join('\n')}`;
}

/** The command whose name the positionals start with (the longest one, so `school show` beats `school`). */
function findCommand(words: string[]): OperatorCommand | undefined {
  return [...OPERATOR_COMMANDS]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((word, i) => words[i] === word));
}

/**
 * Runs one operator command; resolves with the exit code. Results are JSON on stdout; notes for the person
 * and errors on stderr. Exit codes: 0 done, 1 refused or failed, 2 wrong command line or settings.
 */
export async function runOperator(argv: string[], io: OperatorIo): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const command = findCommand(words);
  if (!command || argv.includes('--help') || argv.includes('-h')) {
    io.stderr(`${command || words.length === 0 ? '' : `unknown command: ${words.join(' ')}\n`}${usage()}\n`);
    return command || words.length === 0 ? 0 : 2;
  }
  let ctx;
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
    });
    const positionals = parsed.positionals.slice(command.name.split(' ').length);
    ctx = await createOperatorContext(io);
    const result = await command.run(ctx, { positionals, values: parsed.values });
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${(error as Error).message}\n  npm run operator -- ${command.name} ${command.args}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 2;
    }
    if (error instanceof DomainError) {
      const details = error.details ? `\n${JSON.stringify(error.details, null, 2)}` : '';
      io.stderr(`refused: ${error.code}: ${error.message}${details}\n`);
      return 1;
    }
    io.stderr(`operator: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await ctx?.close();
  }
}
