/**
 * One `soap` client per school connection, built once: the WSDL is downloaded on first use and kept.
 * We download it ourselves (rather than letting `soap` do it) to get a deadline and to tell a wrong URL
 * (HTTP 404: final) from a vendor that is down (retryable). A failed build is forgotten so the next call
 * tries again. Credentials are part of the key, so rotating them builds a fresh client.
 *
 * Beside the clients, one keep-alive agent per endpoint: the connections to a school's card system are
 * kept open and reused by the calls that may be sent twice (soap-card-system.ts says which).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { createClientAsync, WSSecurity, type Client, type IOptions } from 'soap';
import type { CardSystemConnection } from '../card-system.js';
import { HandWrittenRecharge } from './hand-written-recharge.js';
import { soapHttpRequest } from './soap-transport.js';

export class WsdlUnavailable extends Error {
  override name = 'WsdlUnavailable';
  constructor(
    message: string,
    readonly response?: { status: number },
    readonly code?: string,
  ) {
    super(message);
  }
}

export const DEFAULT_TIMEOUT_MS = 8000;

async function downloadWsdl(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const code = (error as Error).name === 'TimeoutError' ? 'ETIMEDOUT' : (cause?.code ?? 'ECONNREFUSED');
    throw new WsdlUnavailable(`could not download the WSDL: ${code}`, undefined, code);
  }
  const text = await response.text();
  if (!response.ok) throw new WsdlUnavailable(`WSDL download answered HTTP ${response.status}`, response);
  // `soap` recognises inline WSDL by its XML declaration.
  return /^\s*<\?xml/i.test(text) ? text.trimStart() : `<?xml version="1.0" encoding="utf-8"?>${text}`;
}

/** The agents a call goes out through (the option names `soap` hands on to axios). */
export interface ConnectionAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

/** A new TCP connection for every call, closed after its answer. */
export const FRESH_CONNECTIONS: ConnectionAgents = {
  httpAgent: new http.Agent({ keepAlive: false }),
  httpsAgent: new https.Agent({ keepAlive: false }),
};

export class SoapClientPool {
  private readonly clients = new Map<string, Promise<Client>>();
  private readonly keptAlive = new Map<string, ConnectionAgents>();
  private readonly handWritten = new WeakMap<Client, HandWrittenRecharge>();

  get(connection: CardSystemConnection): Promise<Client> {
    const key = [
      connection.endpoint,
      connection.username,
      createHash('sha256').update(connection.password).digest('hex'),
    ].join('\n');
    const cached = this.clients.get(key);
    if (cached) return cached;
    const building = this.build(connection);
    this.clients.set(key, building);
    building.catch(() => {
      if (this.clients.get(key) === building) this.clients.delete(key);
    });
    return building;
  }

  /**
   * Kept-alive connections to one endpoint. No cap on sockets: the callers bound what is in flight (the
   * crediting drainer's concurrency), and a request queued inside the agent would spend its deadline
   * before it was even sent. Idle sockets are closed a second before the vendor's announced keep-alive
   * timeout (Node reads the `Keep-Alive: timeout=` hint), and the most recently used is reused first.
   */
  keptConnections(endpoint: string): ConnectionAgents {
    let agents = this.keptAlive.get(endpoint);
    if (!agents) {
      const options = { keepAlive: true, scheduling: 'lifo' as const };
      agents = { httpAgent: new http.Agent(options), httpsAgent: new https.Agent(options) };
      this.keptAlive.set(endpoint, agents);
    }
    return agents;
  }

  /** The hot Recharge call without `soap`'s envelope work, when the client's WSDL allows it. */
  handWrittenRecharge(client: Client): HandWrittenRecharge | undefined {
    return this.handWritten.get(client);
  }

  clear(): void {
    this.clients.clear();
    for (const agents of this.keptAlive.values()) {
      agents.httpAgent.destroy();
      agents.httpsAgent.destroy();
    }
    this.keptAlive.clear();
  }

  private async build(connection: CardSystemConnection): Promise<Client> {
    const wsdl = await downloadWsdl(
      `${connection.endpoint}?wsdl`,
      connection.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    // The endpoint we were given wins over the WSDL's soap:address, which often names an internal host.
    const client = await createClientAsync(wsdl, {
      endpoint: connection.endpoint,
      disableCache: true,
      // Plain node:http instead of axios under `soap` (soap-transport.ts).
      request: soapHttpRequest as unknown as NonNullable<IOptions['request']>,
    });
    const security = new WSSecurity(connection.username, connection.password, {
      passwordType: 'PasswordText',
      hasTimeStamp: false,
    });
    client.setSecurity(security);
    const recharge = HandWrittenRecharge.of(client, connection.endpoint, security);
    if (recharge) this.handWritten.set(client, recharge);
    return client;
  }
}

/** The process-wide pool: every CardSystem for the same connection shares one client. */
export const soapClients = new SoapClientPool();
