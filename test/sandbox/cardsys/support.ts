/** Shared by the card-system tests: a sandbox per file, a fresh school per test, waiting without sleeping blind. */
import { randomBytes } from 'node:crypto';
import { CardsysSandboxControl, type SchoolView } from '../../../scripts/sandbox/cardsys/control-client.js';
import { startCardsysSandbox, type CardsysSandbox } from '../../../scripts/sandbox/cardsys/server.js';

export interface SandboxUnderTest {
  sandbox: CardsysSandbox;
  control: CardsysSandboxControl;
}

/** Starts a sandbox before the suite and closes it after; read the fields inside tests. */
export function useCardsysSandbox(): SandboxUnderTest {
  const under = {} as SandboxUnderTest;
  before(async () => {
    under.sandbox = await startCardsysSandbox({ port: 0 });
    under.control = new CardsysSandboxControl(under.sandbox.url);
  });
  after(async () => {
    await under.sandbox?.close();
  });
  return under;
}

export function uniqueCode(prefix = 'S'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export function freshSchool(control: CardsysSandboxControl): Promise<SchoolView> {
  const code = uniqueCode();
  return control.createSchool({ code, name: `测试学校 ${code}` });
}

/** Polls until `probe` returns a value, failing with `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
