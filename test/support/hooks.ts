// Root hooks for the whole mocha run.
import './env.js';
import { stopTestCluster } from './db.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (!process.env.TEST_KEEP_CLUSTER) await stopTestCluster();
  },
};
