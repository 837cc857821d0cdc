import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase } from '../../support/db.js';
import { DevStart, devStartPorts } from '../../support/dev-start.js';
import { eventually, request } from '../../support/http.js';

/**
 * `npm start` as a person uses it: started in its own DATA_DIR and ports, its printed walk-through pasted
 * line by line into one bash, a second start tried while it runs, then stopped and started again.
 */

/** One bash session: what a user pastes runs there, with the variables of the lines before. */
class Shell {
  private readonly child = spawn('bash', ['--noprofile', '--norc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  private buffer = '';
  private count = 0;
  /** The walk-through's lines, in the order they were run. */
  readonly ran: string[] = [];

  constructor() {
    this.child.stdout.on('data', (chunk: Buffer) => (this.buffer += chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.buffer += chunk.toString()));
    this.child.stdin.write('exec 2>&1\n');
  }

  /** Runs a line as typed and returns what it printed. */
  async exec(line: string, timeoutMs = 60_000): Promise<string> {
    const marker = `__line_${(this.count += 1)}_done__`;
    this.buffer = '';
    this.child.stdin.write(`${line}\nprintf '\\n${marker}\\n'\n`);
    await eventually(() => this.buffer.includes(marker), {
      timeoutMs,
      intervalMs: 20,
      message: `the shell to finish ${line}`,
    });
    return this.buffer.slice(0, this.buffer.indexOf(marker)).trim();
  }

  /** A line of the walk-through, once. */
  async run(line: string): Promise<string> {
    this.ran.push(line);
    return this.exec(line);
  }

  /** A line of the walk-through the user runs again until it shows what it says ("again until …"). */
  async runUntil(line: string, shows: RegExp, timeoutMs = 30_000): Promise<string> {
    this.ran.push(line);
    return this.execUntil(line, shows, timeoutMs);
  }

  async execUntil(line: string, shows: RegExp, timeoutMs = 30_000): Promise<string> {
    let last = '';
    try {
      await eventually(async () => shows.test((last = await this.exec(line))), {
        timeoutMs,
        intervalMs: 300,
      });
    } catch {
      assert.fail(`${line}\nnever showed ${shows}; last:\n${last}`);
    }
    return last;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

/** The numbered steps of the printed walk-through and their `$` lines. */
function stepsOf(text: string): Map<number, string[]> {
  const steps = new Map<number, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const numbered = /^\s?(\d+)\. /.exec(line);
    if (numbered) steps.set(Number(numbered[1]), (current = []));
    const command = /^ {4}\$ (.*)$/.exec(line);
    if (command) current!.push(command[1]);
  }
  return steps;
}

/**
 * The vending machine's steps V1–V4: their curl commands (indented, or after a colon), which a person
 * completes with the numbers of the answer before them (`<outOrderNo>`, `<pay.qrCode>`).
 */
function vendingStepsOf(text: string): Map<number, string[]> {
  const steps = new Map<number, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const numbered = /^V(\d)\. /.exec(line);
    if (numbered) steps.set(Number(numbered[1]), (current = []));
    else if (/^(\d+|[A-Z]\d)\. /.test(line) || line.trim() === '') current = undefined;
    const command = /(?:^ {6,}|: )(curl -s .*)$/.exec(line);
    if (command && current) current.push(command[1]);
  }
  return steps;
}

describe('npm start and its printed walk-through', function () {
  this.timeout(240_000);
  let dataDir: string;
  let env: Record<string, string>;
  let dev: DevStart;
  let printed: string;
  let steps: Map<number, string[]>;
  let shell: Shell;
  const line = (step: number, index: number) => {
    const lines = steps.get(step);
    assert.ok(lines?.[index], `step ${step} has a line ${index + 1}`);
    return lines[index];
  };
  const devJson = () => fs.readFileSync(path.join(dataDir, 'dev.json'), 'utf8');

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
    env = {
      DATA_DIR: dataDir,
      ...(await devStartPorts()),
      // The demo school's retries (15 s, 30 s) a hundred times faster.
      DEDUCTION_RETRY_SCALE: '0.01',
      // A database of the tests' cluster rather than a cluster of its own in DATA_DIR (initdb is slow).
      DATABASE_URL: await freshDatabase(),
    };
    dev = new DevStart(env);
    printed = await dev.ready();
    steps = stepsOf(printed);
    shell = new Shell();
  });
  after(async () => {
    shell?.close();
    await dev?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints commands for this start: its ports, and its DATA_DIR for every npm tool', () => {
    const lines = [...steps.values()].flat();
    assert.ok(lines.length > 30, printed);
    assert.match(printed, new RegExp(`data in ${dataDir}`));
    for (const command of lines) {
      for (const [, port] of command.matchAll(/127\.0\.0\.1:(\d+)/g))
        assert.ok(
          [env.PORT, env.ALIPAY_SANDBOX_PORT, env.CARDSYS_SANDBOX_PORT].includes(port),
          `${command} uses port ${port}`,
        );
      if (command.includes('npm run')) assert.ok(command.includes(`DATA_DIR=${dataDir} npm run`), command);
    }
    const loss = [...steps].find(([, l]) => l.some((c) => c.includes('/loss')))![0];
    const sign = [...steps].find(([, l]) => l.some((c) => c.includes('/withholding/sign')))![0];
    assert.ok(sign < loss, 'withholding comes before loss and unbinding');
  });

  it('starts without a warning: the card system answering the demo school’s check card "no such card" is no fault', () => {
    const warnings = printed.split('\n').filter((l) => /"level":"(warn|error)"/.test(l));
    assert.deepEqual(warnings, []);
  });

  it('walks the student, withholding, arrears, the parent of two, the campus code and the admin in order', async () => {
    await shell.run(line(0, 0));
    // The student logs in and allows three messages.
    await shell.run(line(1, 0));
    await shell.run(line(1, 1));
    assert.match(await shell.exec('echo "$A"'), /^authorization: Bearer \S{20,}$/);
    assert.match(await shell.run(line(2, 0)), /DEMO_ARREARS/);
    assert.match(await shell.run(line(2, 1)), /ARREARS/);
    // Binds with the student number, recharges and sees it credited, on the card and in the statement.
    assert.match(await shell.run(line(3, 0)), /"status":"ACTIVE"/);
    assert.match(await shell.exec('echo "$BINDING"'), /^[0-9a-f-]{36}$/);
    assert.match(await shell.run(line(4, 0)), /"status":"CREATED"/);
    await shell.run(line(4, 1));
    await shell.runUntil(line(5, 0), /"status":"CREDITED"/);
    assert.match(await shell.run(line(5, 1)), /"balanceFen":15000/);
    assert.match(await shell.run(line(5, 2)), /"amountFen":5000/);
    await shell.runUntil(line(5, 3), /DEMO_RECHARGE_CREDITED/);

    // Withholding: signed, active, the card bound at the card system; a swipe collected.
    await shell.run(line(6, 0));
    assert.match(await shell.exec('echo "$SIGN"'), /external_agreement_no|externalAgreementNo|sign_scene/);
    await shell.run(line(6, 1));
    await shell.runUntil(line(6, 2), /"status":"ACTIVE".*"isBoundAtCardSystem":true/);
    assert.match(await shell.run(line(7, 0)), /"decision":"APPROVED"/);
    await shell.runUntil(line(7, 1), /"status": "COLLECTED"/);

    // Arrears, the message, and the repayment.
    await shell.run(line(8, 0));
    assert.match(await shell.run(line(8, 1)), /"decision":"APPROVED"/);
    await shell.runUntil(line(8, 2), /"status": "ARREARS"/);
    await shell.runUntil(line(8, 3), /DEMO_ARREARS/);
    assert.match(await shell.run(line(9, 0)), /"totalFen":800/);
    assert.match(await shell.run(line(9, 1)), /"tradeNo"/);
    await shell.run(line(9, 2));
    await shell.run(line(9, 3));
    await shell.runUntil(line(9, 4), /"totalFen":0/);

    // A parent binds two children and signs once for both; a child's swipe shows in that child's statement.
    for (let i = 0; i < 4; i += 1) await shell.run(line(10, i));
    assert.match(await shell.exec('echo "$CHILD1 $CHILD2"'), /^[0-9a-f-]{36} [0-9a-f-]{36}$/);
    await shell.run(line(10, 4));
    await shell.run(line(10, 5));
    await shell.runUntil(
      line(10, 6),
      /"status":"ACTIVE".*"isBoundAtCardSystem":true.*"isBoundAtCardSystem":true/,
    );
    assert.match(await shell.run(line(11, 0)), /"decision":"APPROVED"/);
    await shell.runUntil(line(11, 1), /"status": "COLLECTED"/);
    assert.match(
      await shell.run(line(11, 2)),
      /"kind":"WITHHOLDING","amountFen":-650,.*"status":"COLLECTED"/,
    );

    // The campus code, scanned at a till and accepted.
    await shell.run(line(12, 0));
    assert.match(await shell.run(line(12, 1)), /"txnNo"/);
    await shell.runUntil(line(12, 2), /ACCEPTED/);

    // The demo student becomes the school's owner, changes a setting and reads the audit log.
    assert.match(await shell.run(line(13, 0)), /OWNER/);
    assert.match(await shell.run(line(14, 0)), /"rechargeMinFen":500/);
    assert.match(await shell.run(line(14, 1)), /rechargeMinFen/);
    assert.match(await shell.run(line(14, 2)), /rechargeMinFen/);
  });

  it('sells at the demo vending machine as V1–V4 say: paid by QR, the machine told, split, a failed dispense refunded', async () => {
    const vending = vendingStepsOf(printed);
    assert.deepEqual([...vending.keys()], [1, 2, 3, 4], printed);
    const command = (step: number, index: number) => {
      const lines = vending.get(step);
      assert.ok(lines?.[index], `step V${step} has a command ${index + 1}`);
      return lines[index];
    };
    // V1: the machine makes the order; its answer has both QR payloads.
    const order = JSON.parse(await shell.exec(command(1, 0)));
    assert.equal(order.amountFen, 1_200);
    assert.match(order.pay.qrCode, /^https:\/\/qr\.alipay\.com\//);
    assert.match(order.pay.miniProgramUrl, /^alipays:\/\/platformapi\/startapp\?appId=/);
    const fill = (line: string) =>
      line.replaceAll('<pay.qrCode>', order.pay.qrCode).replaceAll('<outOrderNo>', order.outOrderNo);

    // V2: the student scans the QR with the Alipay app and pays.
    assert.match(await shell.exec(fill(command(2, 0))), /"resultCode":\s*"9000"/);
    // V3: the machine got a signed callback; the operator has 30 % of ¥12.00.
    await shell.execUntil(
      fill(command(3, 0)),
      new RegExp(`"outOrderNo": "${order.outOrderNo}"[\\s\\S]*"signatureValid": true`),
    );
    await shell.execUntil(fill(command(3, 1)), /"balanceFen":\s*360\b/);
    // V4: the chips did not come out: 900 fen back at once, the operator keeps 30 % of the cola.
    assert.match(await shell.exec(fill(command(4, 0))), /"refundFen":\s*900\b/);
    await shell.execUntil(fill(command(4, 1)), /"balanceFen":\s*90\b/);
    assert.match(await shell.exec(fill(command(4, 2))), new RegExp(order.orderNo));
  });

  it('a second start on the same DATA_DIR says "already running" in one line and leaves its files alone', async () => {
    const before = devJson();
    const second = new DevStart(env);
    assert.equal(await second.exited, 1);
    assert.equal(second.output.trim().split('\n').length, 1, second.output);
    assert.match(second.output, /already running \(pid \d+, at http:\/\/127\.0\.0\.1:\d+\)/);
    assert.equal(devJson(), before);
    assert.equal(JSON.parse(devJson()).running, true);
    const bff = JSON.parse(before).bff as string;
    assert.equal((await request('GET', `${bff}/readyz`)).status, 200);
  });

  it('a second start on the busy ports, with its own DATA_DIR, says so in one line', async () => {
    const before = devJson();
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-other-'));
    try {
      const second = new DevStart({ ...env, DATA_DIR: otherDir });
      assert.equal(await second.exited, 1);
      const lines = second.output.trim().split('\n');
      assert.match(lines.at(-1)!, /port \d+ is already in use \(already running\?\)/, second.output);
      assert.equal(devJson(), before);
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('a restart keeps the agreements at the Alipay sandbox as the platform does, and swipes are collected', async () => {
    assert.equal(await dev.stop(), 0);
    assert.equal(JSON.parse(devJson()).running, false);
    dev = new DevStart(env);
    await dev.ready();
    // The same shell and token: both agreements still active, and Alipay still honours them (swipes collected).
    await shell.execUntil(line(6, 2), /"status":"ACTIVE".*"isBoundAtCardSystem":true/);
    await shell.execUntil(
      line(10, 6),
      /"status":"ACTIVE".*"isBoundAtCardSystem":true.*"isBoundAtCardSystem":true/,
    );
    for (const swipe of [line(7, 0), line(11, 0)]) {
      assert.match(await shell.exec(swipe), /"decision":"APPROVED"/);
      await shell.execUntil(line(7, 1), /"status": "COLLECTED"/);
    }
  });

  it('ends with loss, 解挂, unsigning and unbinding, and every printed line has run in order', async () => {
    assert.match(await shell.run(line(21, 0)), /"status":"LOST"/);
    assert.match(await shell.run(line(21, 1)), /"status":"ACTIVE"/);
    for (let i = 0; i < 4; i += 1) await shell.run(line(22, i));
    const bindings = await shell.exec(`curl -s ${JSON.parse(devJson()).bff}/api/v1/bindings -H "$A"`);
    assert.doesNotMatch(bindings, /"cardNo":"20260001"/);
    assert.deepEqual(shell.ran, [...steps.values()].flat());
  });
});
