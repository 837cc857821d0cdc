import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';

/**
 * A process that runs jobs builds the card-system clients of the schools it will credit (the vendor's WSDL
 * downloaded and parsed) when it starts and when a school's card system is connected, not inside that
 * school's first credit (issue 18 §2: a cold worker's first credits waited for it). Seen from the vendor:
 * a WSDL download per process and connection, with no operation called. The worker is a separate
 * `ROLE=worker` process of `server/src/main.ts`, as deployed, so that its clients are its own.
 */
describe('card-system clients prepared by a worker before its first call', function () {
  // Spawns a `tsx` process, whose cold start takes many seconds on a busy 2-core machine.
  this.timeout(180_000);
  let stack: Stack;
  let worker: ChildProcess | undefined;

  async function vendorStats(schoolCode: string) {
    return (await stack.cardsys.control.getSchool(schoolCode)).stats;
  }

  before(async () => {
    stack = await startStack();
  });

  after(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await stack?.stop();
  });

  it('downloads the WSDL of every connected school when it starts, and calls no operation', async () => {
    const before = await vendorStats(stack.school.code);
    worker = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: { ...process.env, ...stack.app.env, ROLE: 'worker', PORT: '0' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await eventually(
      async () => (await vendorStats(stack.school.code)).wsdlFetches === before.wsdlFetches + 1,
      {
        timeoutMs: 90_000,
        message: 'the worker never prepared the school it knew at its start',
      },
    );
    assert.deepEqual((await vendorStats(stack.school.code)).calls, before.calls);
  });

  it('downloads the WSDL of a school as soon as its card system is connected', async () => {
    assert.ok(worker, 'the worker of the test before');
    // Onboarding in this process tests the connection (one download here); the worker makes the second.
    const school = await stack.addSchool();
    await eventually(async () => (await vendorStats(school.code)).wsdlFetches === 2, {
      timeoutMs: 30_000,
      message: 'the worker never prepared the newly connected school',
    });
  });
});
