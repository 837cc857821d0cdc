import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DevStart, devStartPorts, isRunning, postmasterOf } from '../../support/dev-start.js';
import { eventually } from '../../support/http.js';

/**
 * Stopping `npm start` the way an operator or a supervisor does (systemd, docker stop: SIGTERM to the process
 * they started), with its own embedded PostgreSQL in its own DATA_DIR: nothing may outlive it, and a start
 * killed with kill -9 must not keep the next one from starting.
 */
describe('stopping npm start', function () {
  this.timeout(300_000);
  let dataDir: string;
  let env: Record<string, string>;
  let running: DevStart | undefined;

  const devJson = () =>
    JSON.parse(fs.readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as { running: boolean; pid: number };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-stop-'));
    env = { DATA_DIR: dataDir, ...(await devStartPorts()) };
  });
  after(async () => {
    await running?.stop();
    // Whatever a failed test left behind.
    const left = postmasterOf(dataDir);
    if (left && isRunning(left)) process.kill(left, 'SIGQUIT');
    if (left) await eventually(() => !isRunning(left), { timeoutMs: 30_000, message: 'PostgreSQL gone' });
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('SIGTERM to npm start stops everything, its PostgreSQL included, and exits 0', async () => {
    running = new DevStart(env, 'npm');
    await running.ready();
    const postmaster = postmasterOf(dataDir);
    assert.ok(postmaster && isRunning(postmaster), 'its PostgreSQL runs in DATA_DIR');

    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, running.output);
    assert.ok(!isRunning(postmaster), 'its PostgreSQL stopped');
    assert.equal(postmasterOf(dataDir), undefined, 'postmaster.pid is gone');
    assert.equal(devJson().running, false);
    assert.ok(!fs.existsSync(path.join(dataDir, 'dev.lock')), 'the data folder is free for the next start');
  });

  it('SIGTERM while it is still starting stops the PostgreSQL it has started before it exits', async () => {
    running = new DevStart(env, 'direct');
    let leftAtExit: number | undefined;
    running.child.once('exit', () => (leftAtExit = postmasterOf(dataDir)));
    // Its PostgreSQL is up (postmaster.pid written) and the start goes on: migrations, jobs, the demo.
    const postmaster = await eventually(() => postmasterOf(dataDir), {
      timeoutMs: 120_000,
      intervalMs: 20,
      message: 'npm start started its PostgreSQL',
    });
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, running.output);
    assert.equal(leftAtExit, undefined, 'postmaster.pid was gone when npm start exited');
    assert.ok(!isRunning(postmaster), 'its PostgreSQL stopped');
  });

  it('a start whose PORT is taken says so, exits 1, and its PostgreSQL stopped before it exited', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(Number(env.PORT), '127.0.0.1', resolve));
    try {
      const refused = new DevStart(env, 'direct');
      let leftAtExit: number | undefined;
      refused.child.once('exit', () => (leftAtExit = postmasterOf(dataDir)));
      assert.equal(await refused.exited, 1, refused.output);
      assert.match(refused.output, new RegExp(`port ${env.PORT} is already in use`));
      assert.equal(leftAtExit, undefined, 'postmaster.pid was gone when npm start exited');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('after kill -9 of npm start, its PostgreSQL stops by itself and the next start comes up on the same DATA_DIR', async () => {
    const killed = new DevStart(env, 'npm');
    await killed.ready();
    const postmaster = postmasterOf(dataDir)!;
    // The process that runs scripts/dev.ts (npm's child), as dev.json names it.
    process.kill(devJson().pid, 'SIGKILL');
    await killed.exited;
    await eventually(() => !isRunning(postmaster), {
      timeoutMs: 60_000,
      message: 'the PostgreSQL of the killed start stopped',
    });

    running = new DevStart(env, 'npm');
    const printed = await running.ready();
    assert.equal(devJson().running, true);
    // Stopped this time as the walk-through says, from another terminal: `kill <pid>` of scripts/dev.ts.
    const [, pid] = /`kill (\d+)`/.exec(printed) ?? [];
    assert.equal(Number(pid), devJson().pid, printed);
    process.kill(Number(pid), 'SIGTERM');
    assert.equal(await running.exited, 0, running.output);
    assert.equal(postmasterOf(dataDir), undefined, 'postmaster.pid is gone');
  });
});
