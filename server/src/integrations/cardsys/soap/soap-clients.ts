/**
 * One `soap` client per school connection, built once: the WSDL is downloaded on first use and kept.
 * We download it ourselves (rather than letting `soap` do it) to get a deadline and to tell a wrong URL
 * (HTTP 404: final) from a vendor that is down (retryable). A failed build is forgotten so the next call
 * tries again. Credentials are part of the key, so rotating them builds a fresh client.
 */
import { createHash } from 'node:crypto';
import { createClientAsync, WSSecurity, type Client } from 'soap';
import type { CardSystemConnection } from '../card-system.js';

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

export class SoapClientPool {
  private readonly clients = new Map<string, Promise<Client>>();

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

  clear(): void {
    this.clients.clear();
  }

  private async build(connection: CardSystemConnection): Promise<Client> {
    const wsdl = await downloadWsdl(
      `${connection.endpoint}?wsdl`,
      connection.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    // The endpoint we were given wins over the WSDL's soap:address, which often names an internal host.
    const client = await createClientAsync(wsdl, { endpoint: connection.endpoint, disableCache: true });
    client.setSecurity(
      new WSSecurity(connection.username, connection.password, {
        passwordType: 'PasswordText',
        hasTimeStamp: false,
      }),
    );
    return client;
  }
}

/** The process-wide pool: every CardSystem for the same connection shares one client. */
export const soapClients = new SoapClientPool();
