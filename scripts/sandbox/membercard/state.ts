/**
 * Card management's books, in memory: business systems (a school's CRM) with their templates, the cards in
 * users' wallets, and every call in either direction. A restart forgets everything (npm start configures
 * the demo school again).
 */
import { randomInt } from 'node:crypto';
import type {
  CrmCallView,
  FaultInput,
  FaultView,
  InboundCallView,
  SystemInput,
  TemplateInput,
  WalletCardView,
} from './control-types.js';

export class SandboxNotFound extends Error {
  override name = 'SandboxNotFound';
}

export class SandboxConflict extends Error {
  override name = 'SandboxConflict';
}

export const DEFAULT_CODE_EXPIRE_SECONDS = 120;
const MAX_LOG = 1_000;

export interface System extends Omit<SystemInput, 'templates'> {
  systemId: string;
  timeoutMs: number;
  templates: Map<string, Required<TemplateInput>>;
}

export class CardManagementBooks {
  readonly systems = new Map<string, System>();
  /** Wallet cards by alipayCardNo. */
  readonly cards = new Map<string, WalletCardView>();
  readonly crmCalls: Array<CrmCallView & { systemId: string }> = [];
  readonly inboundCalls: InboundCallView[] = [];
  private readonly faults: FaultView[] = [];
  private faultCounter = 0;

  configure(systemId: string, input: SystemInput): System {
    for (const template of input.templates) {
      const owner = this.systemOfTemplate(template.templateId);
      if (owner && owner.systemId !== systemId)
        throw new SandboxConflict(`template ${template.templateId} belongs to system ${owner.systemId}`);
    }
    const system: System = {
      ...input,
      systemId,
      timeoutMs: input.timeoutMs ?? 5_000,
      templates: new Map(
        input.templates.map((t) => [
          t.templateId,
          {
            templateId: t.templateId,
            name: t.name,
            formFields: t.formFields ?? [],
            codeExpireSeconds: t.codeExpireSeconds ?? DEFAULT_CODE_EXPIRE_SECONDS,
          },
        ]),
      ),
    };
    this.systems.set(systemId, system);
    return system;
  }

  system(systemId: string): System {
    const system = this.systems.get(systemId);
    if (!system) throw new SandboxNotFound(`no business system ${systemId}`);
    return system;
  }

  systemOfTemplate(templateId: string): System | undefined {
    for (const system of this.systems.values()) if (system.templates.has(templateId)) return system;
    return undefined;
  }

  card(alipayUserId: string, alipayCardNo: string): WalletCardView {
    const card = this.cards.get(alipayCardNo);
    if (!card || card.alipayUserId !== alipayUserId)
      throw new SandboxNotFound(`no card ${alipayCardNo} in the wallet of ${alipayUserId}`);
    return card;
  }

  wallet(alipayUserId: string): WalletCardView[] {
    return [...this.cards.values()].filter((c) => c.alipayUserId === alipayUserId);
  }

  /** The active card of a system with this bizCardNo (what /card/update and /card/changeTemplate name). */
  activeCard(systemId: string, bizCardNo: string): WalletCardView | undefined {
    return [...this.cards.values()].find(
      (c) => c.systemId === systemId && c.bizCardNo === bizCardNo && c.status === 'ACTIVE',
    );
  }

  newAlipayCardNo(): string {
    for (;;) {
      const no = `${Date.now().toString().slice(-8)}${randomInt(0, 1e8).toString().padStart(8, '0')}`;
      if (!this.cards.has(no)) return no;
    }
  }

  logCrmCall(systemId: string, call: CrmCallView): void {
    this.crmCalls.push({ ...call, systemId });
    if (this.crmCalls.length > MAX_LOG) this.crmCalls.shift();
  }

  logInbound(call: InboundCallView): void {
    this.inboundCalls.push(call);
    if (this.inboundCalls.length > MAX_LOG) this.inboundCalls.shift();
  }

  addFault(input: FaultInput): FaultView {
    const fault: FaultView = {
      id: `f${++this.faultCounter}`,
      path: input.path ?? '*',
      kind: input.kind,
      times: input.times ?? 1,
      hits: 0,
    };
    this.faults.push(fault);
    return { ...fault };
  }

  listFaults(): FaultView[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The fault that fires for this call, if any (each fires `times` times). */
  takeFault(path: string): FaultView | undefined {
    const fault = this.faults.find((f) => (f.path === '*' || f.path === path) && f.hits < f.times);
    if (fault) fault.hits += 1;
    return fault;
  }

  reset(): void {
    this.systems.clear();
    this.cards.clear();
    this.crmCalls.length = 0;
    this.inboundCalls.length = 0;
    this.faults.length = 0;
  }
}
