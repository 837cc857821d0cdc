import { spawn, type ChildProcess } from 'node:child_process';
import { eventually, request } from '../support/http.js';
import type { Stack } from '../support/stack.js';

/**
 * Processes of the platform started the way production runs them (`node server/src/main.ts` with a ROLE),
 * on the stack's database and sandboxes, so that a drill can `kill -9` them.
 */
export interface PlatformProcess {
  role: 'api' | 'worker';
  port: number;
  child: ChildProcess;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startProcess(
  stack: Stack,
  role: 'api' | 'worker',
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<PlatformProcess> {
  const port = options.port ?? 0;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    env: {
      ...process.env,
      ...stack.app.env,
      ROLE: role,
      PORT: String(port),
      ...(role === 'api' ? { PUBLIC_BASE_URL: `http://127.0.0.1:${port}` } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  if (role === 'api')
    await eventually(
      async () => {
        if (exited) throw new Error(`the ${role} process exited while starting`);
        return (
          (await request('GET', `http://127.0.0.1:${port}/readyz`).catch(() => ({ status: 0 }))).status ===
          200
        );
      },
      { timeoutMs: 90_000, intervalMs: 200, message: `${role} process ready` },
    );
  return {
    role,
    port,
    child,
    async kill9() {
      if (exited) return;
      child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await exit;
    },
  };
}

/** A small deterministic random source, so that a drill's choices repeat run to run (seed in the name). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
