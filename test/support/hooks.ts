// Root hooks for the whole mocha run.
import { stopTestCluster } from './db.js';

process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTestCluster();
  },
};
