import { lt } from 'drizzle-orm';
import { gatewayNonces } from '../db/schema.js';
import type { JobDefinition } from './runner.js';

/** Gateway nonces only need to be remembered for the timestamp window (DESIGN §6.2); drop older ones. */
export const noncesPruneJob: JobDefinition = {
  name: 'nonces.prune',
  every: '10 minutes',
  concurrency: 1,
  async run(_data, deps) {
    const removed = await deps.db
      .delete(gatewayNonces)
      .where(lt(gatewayNonces.expiresAt, deps.clock.now()))
      .returning({ nonce: gatewayNonces.nonce });
    if (removed.length > 0) deps.logger.debug('pruned gateway nonces', { count: removed.length });
  },
};
