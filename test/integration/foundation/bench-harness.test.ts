import assert from 'node:assert/strict';
import net from 'node:net';
import { launchListening } from '../../../scripts/bench/harness.js';
import { request } from '../../support/http.js';

/**
 * The benchmark stack's processes listen on ports the harness chose a moment before (scripts/bench/harness.ts);
 * another process may take such a port first (session 11: a bench run failed so).
 */
describe('benchmark harness: a process on a port chosen for it', function () {
  this.timeout(120_000);
  let taken: net.Server;
  let takenPort: number;

  before(async () => {
    taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as net.AddressInfo).port;
  });
  after(() => new Promise((resolve) => taken.close(resolve)));

  it('is launched again on another port when its port was taken before it listened', async () => {
    const given: number[][] = [];
    const sandbox = await launchListening('alipay sandbox', 'scripts/sandbox/alipay/main.ts', {
      ports: 1,
      // The first launch finds its port taken, as when another process took it in between.
      env: (ports) => {
        given.push(ports);
        return { PORT: String(given.length === 1 ? takenPort : ports[0]), SANDBOX_STATE_FILE: 'none' };
      },
      readyPath: '/control/health',
    });
    try {
      assert.equal(given.length, 2);
      assert.equal(sandbox.url, `http://127.0.0.1:${given[1][0]}`);
      assert.equal((await request('GET', `${sandbox.url}/control/health`)).status, 200);
    } finally {
      sandbox.child.kill('SIGTERM');
    }
  });

  it('fails at once, not again and again, when the process fails for another reason', async () => {
    let launches = 0;
    await assert.rejects(
      launchListening('alipay sandbox', 'scripts/sandbox/alipay/main.ts', {
        ports: 1,
        env: () => {
          launches += 1;
          return { PORT: 'not-a-port', SANDBOX_STATE_FILE: 'none' };
        },
        readyPath: '/control/health',
      }),
      /its process exited/,
    );
    assert.equal(launches, 1);
  });
});
