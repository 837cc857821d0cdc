/**
 * Typed client of the card-management sandbox's control API, for tests, the dev launcher and anyone's own
 * tools. Every method is one route of docs/sandbox.md.
 */
import type {
  ClaimInput,
  ClaimView,
  CodeView,
  ControlErrorBody,
  CrmCallView,
  FaultInput,
  FaultView,
  InboundCallView,
  RemoveView,
  ShowCardView,
  SystemInput,
  SystemView,
  WalletCardView,
} from './control-types.js';

export type * from './control-types.js';

export class MembercardControlError extends Error {
  override name = 'MembercardControlError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

const enc = encodeURIComponent;

export class MembercardSandboxControl {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  reset(): Promise<void> {
    return this.call('POST', '/control/reset');
  }

  /** Configures a school's business system (CRM URL, token, our public key, templates). */
  configureSystem(systemId: string, input: SystemInput): Promise<SystemView> {
    return this.call('PUT', `/control/systems/${enc(systemId)}`, input);
  }

  getSystem(systemId: string): Promise<SystemView> {
    return this.call('GET', `/control/systems/${enc(systemId)}`);
  }

  /** An Alipay user fills in the open-card form and the card lands in their wallet (or does not). */
  claim(input: ClaimInput): Promise<ClaimView> {
    return this.call('POST', '/control/claims', input);
  }

  async wallet(alipayUserId: string): Promise<WalletCardView[]> {
    return (await this.call<{ cards: WalletCardView[] }>('GET', `/control/wallets/${enc(alipayUserId)}`))
      .cards;
  }

  /** The user opens the card: card management queries the CRM for points and balance. */
  showCard(alipayUserId: string, alipayCardNo: string): Promise<ShowCardView> {
    return this.call('GET', `/control/wallets/${enc(alipayUserId)}/cards/${enc(alipayCardNo)}`);
  }

  /** The card's dynamic code, from the CRM's mdCodeChange. */
  requestCode(alipayUserId: string, alipayCardNo: string): Promise<CodeView> {
    return this.call('POST', `/control/wallets/${enc(alipayUserId)}/cards/${enc(alipayCardNo)}/code`);
  }

  removeCard(alipayUserId: string, alipayCardNo: string): Promise<RemoveView> {
    return this.call('DELETE', `/control/wallets/${enc(alipayUserId)}/cards/${enc(alipayCardNo)}`);
  }

  calls(systemId?: string): Promise<{ crm: CrmCallView[]; inbound: InboundCallView[] }> {
    return this.call('GET', `/control/calls${systemId ? `?systemId=${enc(systemId)}` : ''}`);
  }

  injectFault(input: FaultInput): Promise<FaultView> {
    return this.call('POST', '/control/faults', input);
  }

  clearFaults(): Promise<void> {
    return this.call('DELETE', '/control/faults');
  }

  /** Polls the wallet card until `until` holds; throws after `timeoutMs`. */
  async waitForCard(
    alipayUserId: string,
    alipayCardNo: string,
    until: (card: WalletCardView) => boolean,
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<WalletCardView> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const card = (await this.wallet(alipayUserId)).find((c) => c.alipayCardNo === alipayCardNo);
      if (card && until(card)) return card;
      if (Date.now() > deadline) {
        throw new Error(
          `wallet card ${alipayCardNo} did not reach the expected state: ${JSON.stringify(card)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      let error: Partial<ControlErrorBody['error']> = {};
      try {
        error = (JSON.parse(text) as ControlErrorBody).error ?? {};
      } catch {
        // not JSON
      }
      throw new MembercardControlError(response.status, error.code ?? 'HTTP_ERROR', error.message ?? text);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
