import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../server/src/db/embedded-postgres.js';
import { eventually } from './http.js';

/**
 * The ports of one `npm start` (scripts/dev.ts), all different: the BFF, the Alipay sandbox, the card-system
 * sandbox and its SOAP port (the next one), the card-management sandbox, the vending machine and its control
 * API (the next one).
 */
export async function devStartPorts(): Promise<Record<string, string>> {
  const taken = new Set<number>();
  const pick = async (width: 1 | 2): Promise<string> => {
    for (;;) {
      const port = await freePort();
      const ports = width === 2 ? [port, port + 1] : [port];
      if (port >= 65_000 || ports.some((p) => taken.has(p))) continue;
      if (width === 2 && !(await isFree(port + 1))) continue;
      for (const p of ports) taken.add(p);
      return String(port);
    }
  };
  return {
    PORT: await pick(1),
    ALIPAY_SANDBOX_PORT: await pick(1),
    CARDSYS_SANDBOX_PORT: await pick(2),
    MEMBERCARD_SANDBOX_PORT: await pick(1),
    VENDING_SANDBOX_PORT: await pick(2),
  };
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `npm start` as a child process: by default the way a person or a supervisor runs it (`npm start`, whose
 * process is the one they signal), or `node --import tsx scripts/dev.ts` (`direct`). Everything it prints is
 * in `output`.
 */
export class DevStart {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>, launcher: 'npm' | 'direct' = 'direct') {
    const [command, args] =
      launcher === 'npm'
        ? ['npm', ['start', '--silent']]
        : [process.execPath, ['--import', 'tsx', 'scripts/dev.ts']];
    // Its own embedded PostgreSQL in DATA_DIR unless `env` names a DATABASE_URL.
    const { DATABASE_URL: _unused, ...inherited } = process.env;
    this.child = spawn(command, args, {
      env: { ...inherited, LOG_LEVEL: 'warn', npm_config_update_notifier: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Waits until it printed its walk-through (it is ready); fails at once if it exited. */
  async ready(): Promise<string> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    await eventually(
      () => {
        if (exited) throw new Error(`npm start exited:\n${this.output}`);
        return this.output.includes('Stop with Ctrl-C');
      },
      { timeoutMs: 150_000, intervalMs: 200, message: 'npm start ready' },
    );
    return this.output;
  }

  /** Ctrl-C. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}

/** The pid in `<DATA_DIR>/pg/postmaster.pid`, or undefined when there is none (no PostgreSQL runs there). */
export function postmasterOf(dataDir: string): number | undefined {
  try {
    return (
      Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined
    );
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a running process (a zombie waiting to be reaped is not). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
