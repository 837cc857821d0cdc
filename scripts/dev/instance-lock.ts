/**
 * One `npm start` per data folder. A second start on the same DATA_DIR would rewrite the running one's
 * dev.json, overwrite its sandbox snapshots and fight over its PostgreSQL cluster; so the first start holds
 * `<DATA_DIR>/dev.lock` (its pid) and the second one stops before touching anything. A lock left by a start
 * that died (kill -9, power cut) names a process that is gone and is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export type DataDirLock = { held: true; release(): void } | { held: false; pid: number };

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; still running.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, 'dev.lock');
  fs.mkdirSync(dataDir, { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return {
        held: true,
        release() {
          try {
            if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.rmSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (pid !== process.pid && isRunning(pid)) return { held: false, pid };
    // Left by a start that is gone: take it over.
    fs.rmSync(file, { force: true });
  }
}
