/**
 * Operator command for POS gateway clients (DESIGN §6.2, docs/gateway-api.md):
 *
 *   npm run gateway:client -- create --school <code|id> [--name "一食堂 POS 网关"]
 *   npm run gateway:client -- rotate --client <id> [--grace-minutes 60]
 *   npm run gateway:client -- list
 *   npm run gateway:client -- revoke --client <id>
 *
 * A secret is printed once, when it is made; only its ciphertext is stored. It connects like the server:
 * DATABASE_URL when set; else the database of a running `npm start` (from `<DATA_DIR>/dev.json`); else the
 * embedded cluster in DATA_DIR (default .data), which it starts itself. Secrets are encrypted with the same
 * PII_KEY (or the key file in DATA_DIR) as the server's, so run it with the server's environment.
 */
import '../server/src/lib/timezone.js';
import crypto from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/src/config.js';
import { findSchool, findSchoolByCode } from '../server/src/db/repos/schools/schools.js';
import type { Actor } from '../server/src/domain/audit/audit.js';
import {
  createGatewayClient,
  listAllGatewayClients,
  revokeGatewayClientById,
  rotateGatewayClient,
} from '../server/src/domain/schools/gateway-clients.js';
import { systemClock } from '../server/src/lib/clock.js';
import { DataProtector, loadMasterKey } from '../server/src/lib/crypto.js';
import { createLogger } from '../server/src/lib/logger.js';
import { connectToolDatabase } from './lib/tool-database.js';

const USAGE = `usage:
  npm run gateway:client -- create --school <code|id> [--name <name>]
  npm run gateway:client -- rotate --client <id> [--grace-minutes <n>]   (default 60)
  npm run gateway:client -- list
  npm run gateway:client -- revoke --client <id>`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      school: { type: 'string' },
      name: { type: 'string' },
      client: { type: 'string' },
      'grace-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) throw new UsageError('');
  if (!['create', 'rotate', 'list', 'revoke'].includes(command))
    throw new UsageError(`unknown command ${command}`);

  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const database = await connectToolDatabase(config, logger, 'gateway-client-cli');
  // Audited as the operator, like `npm run operator` (one request id for this run).
  const actor: Actor = {
    kind: 'OPERATOR',
    name: process.env.OPERATOR_NAME || os.userInfo().username || 'operator',
    requestId: `op-${crypto.randomUUID()}`,
  };
  try {
    const deps = {
      db: database.db,
      clock: systemClock,
      protector: new DataProtector(loadMasterKey(config.piiKey, config.dataDir, config.env)),
    };
    if (command === 'create') {
      if (!values.school) throw new UsageError('create needs --school <code|id>');
      const school = /^\d{10}$/.test(values.school)
        ? await findSchoolByCode(deps.db, values.school)
        : await findSchool(deps.db, values.school).catch(() => undefined);
      if (!school) throw new Error(`no school ${values.school}`);
      const issued = await createGatewayClient(deps, {
        schoolId: school.id,
        name: values.name ?? `${school.name} POS gateway`,
        actor,
      });
      print({ school: { id: school.id, code: school.code, name: school.name }, ...issued });
      process.stderr.write('The secret is shown only now. Give it to the card vendor over a safe channel.\n');
    } else if (command === 'rotate') {
      if (!values.client) throw new UsageError('rotate needs --client <id>');
      const grace = Number(values['grace-minutes'] ?? 60);
      if (!Number.isInteger(grace) || grace < 0)
        throw new UsageError('--grace-minutes must be a whole number ≥ 0');
      const rotated = await rotateGatewayClient(deps, values.client, grace, actor);
      print({ ...rotated, previousValidUntil: rotated.previousValidUntil.toISOString() });
      process.stderr.write(
        `The new secret is shown only now; the old one works until ${rotated.previousValidUntil.toISOString()}.\n`,
      );
    } else if (command === 'revoke') {
      if (!values.client) throw new UsageError('revoke needs --client <id>');
      await revokeGatewayClientById(deps, values.client, actor);
      print({ clientId: values.client, status: 'REVOKED' });
      process.stderr.write(
        'Running servers stop accepting it within GATEWAY_CLIENT_CACHE_MS (default 30 s).\n',
      );
    } else {
      const clients = await listAllGatewayClients(deps);
      print(
        clients.map((c) => ({
          clientId: c.id,
          name: c.name,
          school: `${c.schoolCode} ${c.schoolName}`,
          status: c.status,
          createdAt: c.createdAt.toISOString(),
          rotatedAt: c.rotatedAt?.toISOString() ?? null,
          previousSecretValidUntil: c.previousSecretValidUntil?.toISOString() ?? null,
        })),
      );
    }
  } finally {
    await database.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `${error.message}\n` : ''}${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`gateway:client: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
