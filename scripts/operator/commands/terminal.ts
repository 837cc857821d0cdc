import { findTerminalByTerminalId } from '../../../server/src/db/repos/terminals/terminals.js';
import {
  createTerminal,
  schoolTerminals,
  setTerminalStatus,
} from '../../../server/src/domain/terminals/terminals.js';
import { validate } from '../../../server/src/http/validate.js';
import { createTerminalBody } from '../../../server/src/routes/admin/terminals.js';
import { required, UsageError, type OperatorCommand, type OperatorInput } from '../command.js';
import type { OperatorContext } from '../context.js';

/** Vending machines and cashier windows (issue #15), for the operator setting a school up. */

function text(input: OperatorInput, name: string): string | undefined {
  const value = input.values[name];
  return typeof value === 'string' ? value : undefined;
}

function whole(input: OperatorInput, name: string): number | undefined {
  const value = text(input, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}

/** The money mode the options describe: --seller (restricted), --royalty-account (profit sharing) or neither. */
function moneyModeOf(input: OperatorInput) {
  const seller = text(input, 'seller');
  const royaltyAccount = text(input, 'royalty-account');
  if (seller && royaltyAccount) throw new UsageError('--seller and --royalty-account exclude each other');
  if (seller) return { moneyMode: 'RESTRICTED' as const, sellerId: seller };
  if (!royaltyAccount) return { moneyMode: 'PLAIN' as const };
  const bps = whole(input, 'royalty-bps');
  const fixedFen = whole(input, 'royalty-fen');
  return {
    moneyMode: 'ROYALTY' as const,
    royalty: {
      account: royaltyAccount,
      ...(bps === undefined ? {} : { bps }),
      ...(fixedFen === undefined ? {} : { fixedFen }),
      timing: (text(input, 'royalty-timing') ?? 'ON_PAYMENT').toUpperCase(),
    },
  };
}

async function terminalOf(ctx: OperatorContext, input: OperatorInput) {
  const school = await ctx.school(required(input, 'school'));
  const terminal = await findTerminalByTerminalId(ctx.deps.db, school.id, required(input, 'terminal-id'));
  if (!terminal) throw new UsageError(`no terminal ${input.values['terminal-id']} at school ${school.code}`);
  return { school, terminal };
}

const statusCommand = (status: 'ACTIVE' | 'DISABLED'): OperatorCommand => ({
  name: status === 'ACTIVE' ? 'terminal enable' : 'terminal disable',
  args: '--school <code> --terminal-id <id>',
  summary:
    status === 'ACTIVE'
      ? 'the terminal takes orders again'
      : 'the terminal takes no new orders (paid ones go on)',
  options: { school: { type: 'string' }, 'terminal-id': { type: 'string' } },
  async run(ctx, input) {
    const { school, terminal } = await terminalOf(ctx, input);
    return setTerminalStatus(ctx.deps, ctx.actor, school.id, terminal.id, status);
  },
});

export const terminalCommands: OperatorCommand[] = [
  {
    name: 'terminal create',
    args:
      '--school <code> --terminal-id <id> --kind vending|cashier --name <name> [--location <where>] ' +
      '[--operator <who runs it>] [--callback-url <url>] [--timeout <seconds>] ' +
      '[--seller <2088…> | --royalty-account <2088…> (--royalty-bps <1-10000> | --royalty-fen <fen>) ' +
      '[--royalty-timing on_payment|after_dispense]]',
    summary: 'a vending machine or cashier window and its HMAC client (the secret is shown once)',
    options: {
      school: { type: 'string' },
      'terminal-id': { type: 'string' },
      kind: { type: 'string' },
      name: { type: 'string' },
      location: { type: 'string' },
      operator: { type: 'string' },
      'callback-url': { type: 'string' },
      timeout: { type: 'string' },
      seller: { type: 'string' },
      'royalty-account': { type: 'string' },
      'royalty-bps': { type: 'string' },
      'royalty-fen': { type: 'string' },
      'royalty-timing': { type: 'string' },
    },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      const timeout = whole(input, 'timeout');
      const body = validate(
        createTerminalBody,
        {
          terminalId: required(input, 'terminal-id'),
          kind: required(input, 'kind').toUpperCase(),
          name: required(input, 'name'),
          ...(text(input, 'location') ? { location: text(input, 'location') } : {}),
          ...(text(input, 'operator') ? { operatorName: text(input, 'operator') } : {}),
          ...(text(input, 'callback-url') ? { callbackUrl: text(input, 'callback-url') } : {}),
          ...(timeout === undefined ? {} : { orderTimeoutSeconds: timeout }),
          ...moneyModeOf(input),
        },
        'body',
      );
      const created = await createTerminal(ctx.deps, ctx.actor, school.id, body, '');
      ctx.say(
        'The secret is shown only now: configure the machine with X-Client-Id and this secret ' +
          '(docs/gateway-api.md "Terminal orders").',
      );
      return created;
    },
  },
  {
    name: 'terminal list',
    args: '--school <code>',
    summary: "the school's vending machines and windows",
    options: { school: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      return schoolTerminals(ctx.deps, school.id);
    },
  },
  statusCommand('DISABLED'),
  statusCommand('ACTIVE'),
];
