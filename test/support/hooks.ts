// Root hooks for the whole mocha run.
import './env.js';
import { stopTestCluster } from './db.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    // Stopping the shared cluster (a shutdown checkpoint after some fifty suites) on a busy machine.
    this.timeout(90_000);
    await stopTestCluster();
  },
};
