/**
 * Reads the V8 CPU profiles that `BENCH_CPU_PROF=<dir>` makes every benchmark process write on exit, and prints
 * where each process spent its CPU: self time by package (node_modules/<name>, node's own, our files) and by
 * function. With `--window <from>-<to>` (monotonic µs, as the benchmark prints them: `BENCH_WINDOW …`) only
 * the samples of the measured phase count, not the set-up's.
 *
 *   BENCH_CPU_PROF=/tmp/prof npm run bench:recharge     # prints "BENCH_WINDOW phase1 <from>-<to>"
 *   npx tsx scripts/bench/cpu-profile.ts /tmp/prof --window <from>-<to> [--top 25]
 *
 * Besides self time, each function's total time (its own and its callees', counted once per sample) says what a
 * whole step costs (the precreate call, the notification, the callback).
 *
 * A sample's weight is the wall-clock time to the next one, so time a process spends preempted is charged to
 * the frame it stopped in — on two shared cores, typically just after it woke another process or thread: a
 * socket write to a waiting reader (`writev`), crypto work handed to the thread pool (`signOneShot`). Session
 * 9, terminal benchmark at 150/s on a loaded machine: the API's profile was "busy" 12.6 ms per order where
 * /proc counted 8.2 ms of CPU, and `writev` alone took 14 % of its samples. Compare processes and A/B runs by
 * the CPU the benchmarks print (from /proc); read a profile for the shape within one process.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)', '(program)']);

function packageOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const ours = /\/(server\/src|scripts|shared)\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

function summarise(file: string, window: [number, number] | undefined, top: number): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const totalByFunction = new Map<string, number>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const nameOf = (node: ProfileNode) =>
    `${node.callFrame.functionName || '(anonymous)'} ${packageOf(node.callFrame)}:${node.callFrame.lineNumber + 1}`;
  let busy = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i];
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    if (window && (at < window[0] || at > window[1])) continue;
    const node = byId.get(profile.samples[i]);
    if (!node || IDLE.has(node.callFrame.functionName)) continue;
    busy += weight;
    const pkg = packageOf(node.callFrame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + weight);
    const name = nameOf(node);
    byFunction.set(name, (byFunction.get(name) ?? 0) + weight);
    const onStack = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const frame = nameOf(byId.get(id)!);
      if (onStack.has(frame)) continue;
      onStack.add(frame);
      totalByFunction.set(frame, (totalByFunction.get(frame) ?? 0) + weight);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => ((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5);
  console.log(`\n== ${path.basename(file)}: ${ms(busy).trim()} ms busy${window ? ' in the window' : ''}`);
  const show = (title: string, map: Map<string, number>) => {
    console.log(`-- ${title}`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${ms(us)} ms ${pct(us)} %  ${name}`);
  };
  show('self time by package', byPackage);
  show('self time by function', byFunction);
  show('total time by function (with its callees)', totalByFunction);
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const windowArg = option('--window');
const top = Number(option('--top') ?? 25);
const window = windowArg ? (windowArg.split('-').map(Number) as [number, number]) : undefined;
for (const target of args) {
  const files = fs.statSync(target).isDirectory()
    ? fs
        .readdirSync(target)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => path.join(target, name))
    : [target];
  for (const file of files) summarise(file, window, top);
}
