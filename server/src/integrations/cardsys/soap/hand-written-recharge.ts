/**
 * The vendor's Recharge call written by hand: the crediting worker's hot path (issue 18 §2). The `soap`
 * client's envelope building (objectToXML, splitQName) and answer parsing (xmlToObject over sax) were ≈ 23 %
 * of the worker's CPU at 300 credits/s, with much of its garbage (V8 profile of `bench:recharge`, README
 * "Performance"); this writes the same bytes and reads the plain answer with a few string operations.
 *
 * What stays `soap`'s: the WSDL (the operation's namespace and SOAPAction are read from the parsed one, so
 * a vendor's own WSDL still decides them), the WS-Security header (the client's own WSSecurity writes it),
 * the HTTP headers (`soap`'s HttpClient builds them), the transport (soap-transport.ts, the same agents:
 * kept-alive connections, a refused connection is still a refused connection and rejects as before), and
 * every answer that is not a plain RechargeResponse: a fault, an HTTP error page, an answer with attributes,
 * entities or nesting we do not read here is handed to the `soap` client as if it had received it itself
 * (soapHttpRequest's `recordedAnswer`), so its result or error is exactly the one classify-failure.ts knows.
 * A test compares the request with the one `soap` writes, byte for byte.
 */
// soap's own escaping of every text it writes, so that the bytes are the ones `soap` writes.
import { xmlEscape } from 'soap/lib/utils.js';
import { HttpClient, type Client, type IOptions, type WSSecurity } from 'soap';
import { soapHttpRequest, type RecordedAnswer } from './soap-transport.js';

/** What a call hands the transport besides the request (agents, deadline, abort signal). */
export type CallOptions = Record<string, unknown>;

type Fields = Record<string, string>;

export interface RechargeArgs {
  CardNo: string;
  Amount: string;
  FlowNo: string;
}

function isRechargeArgs(args: Record<string, unknown>): args is Record<string, unknown> & RechargeArgs {
  return [args.CardNo, args.Amount, args.FlowNo].every((value) => typeof value === 'string');
}

/** Builds only the HTTP headers, exactly as `soap` does; its requests go out through soapHttpRequest. */
const headersOf = new HttpClient({
  request: soapHttpRequest as unknown as NonNullable<IOptions['request']>,
});

interface WsdlOperation {
  soapAction?: string;
  style?: string;
  input?: { $name?: string; targetNamespace?: string };
  output?: { $name?: string };
}

/** The WSDL's Recharge, if it is the document/literal operation this file writes; else undefined. */
function rechargeOperationOf(client: Client): { soapAction: string; namespace: string } | undefined {
  const definitions = client.wsdl.definitions as unknown as {
    $targetNamespace: string;
    services: Record<
      string,
      { ports: Record<string, { binding?: { methods?: Record<string, WsdlOperation> } }> }
    >;
  };
  const service = Object.values(definitions.services)[0];
  const port = service && Object.values(service.ports)[0];
  const method = port?.binding?.methods?.Recharge;
  if (!method || method.style !== 'document' || method.input?.$name !== 'Recharge') return undefined;
  if (method.output?.$name !== 'RechargeResponse' || !method.input.targetNamespace) return undefined;
  const ns = definitions.$targetNamespace;
  return {
    soapAction: method.soapAction ?? `${ns.endsWith('/') ? ns : `${ns}/`}Recharge`,
    namespace: method.input.targetNamespace,
  };
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The fields of a plain `<RechargeResponse xmlns="…"><Name>text</Name>…</RechargeResponse>` in a SOAP
 * body, or null for anything else (the caller then lets `soap` read it). Text with leading or trailing
 * blanks, an unknown entity or an empty element is left to `soap` as well: its reading of those decides.
 */
export function readPlainRechargeAnswer(body: string, namespace: string): Fields | null {
  const open = `<RechargeResponse xmlns="${namespace}">`;
  const start = body.indexOf(open);
  const end = body.indexOf('</RechargeResponse>');
  if (start < 0 || end < start) return null;
  const envelope =
    /^(?:<\?xml[^>]*\?>)?\s*<(\w+):Envelope(?:\s+xmlns(?::\w+)?="[^"]*")*\s*>\s*<\1:Body>\s*$/.exec(
      body.slice(0, start),
    );
  if (!envelope) return null;
  const prefix = envelope[1];
  if (body.slice(end + 19).trim() !== `</${prefix}:Body></${prefix}:Envelope>`) return null;
  const inner = body.slice(start + open.length, end);
  const fields: Fields = {};
  const element = /<(\w+)>([^<]+)<\/\1>/y;
  let at = 0;
  while (at < inner.length) {
    element.lastIndex = at;
    const match = element.exec(inner);
    if (!match || Object.hasOwn(fields, match[1])) return null;
    const raw = match[2];
    if (raw.trim() !== raw || /&(?!#x[0-9a-fA-F]+;|#\d+;|\w+;)/.test(raw)) return null;
    let unknownEntity = false;
    const text = raw.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, name: string) => {
      if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
      if (Object.hasOwn(ENTITIES, name)) return ENTITIES[name];
      unknownEntity = true;
      return '';
    });
    if (unknownEntity) return null;
    fields[match[1]] = text;
    at = element.lastIndex;
  }
  return fields;
}

export class HandWrittenRecharge {
  private constructor(
    private readonly client: Client,
    private readonly endpoint: string,
    private readonly security: WSSecurity,
    private readonly operation: { soapAction: string; namespace: string },
  ) {}

  /** undefined when the vendor's WSDL does not describe Recharge as this file writes it: `soap` calls then. */
  static of(client: Client, endpoint: string, security: WSSecurity): HandWrittenRecharge | undefined {
    const operation = rechargeOperationOf(client);
    return operation && new HandWrittenRecharge(client, endpoint, security, operation);
  }

  /** The envelope `soap` writes for this call (client.js `_invoke`, document/literal, WS-Security header). */
  envelope(args: RechargeArgs): string {
    const { namespace } = this.operation;
    return (
      '<?xml version="1.0" encoding="utf-8"?>' +
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' +
      `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ${this.client.wsdl.xmlnsInEnvelope}>` +
      `<soap:Header>${this.security.toXML()}</soap:Header>` +
      `<soap:Body><Recharge xmlns="${namespace}">` +
      `<CardNo>${xmlEscape(args.CardNo)}</CardNo><Amount>${xmlEscape(args.Amount)}</Amount>` +
      `<FlowNo>${xmlEscape(args.FlowNo)}</FlowNo></Recharge></soap:Body></soap:Envelope>`
    );
  }

  /** Resolves with the answer's fields, as `client.RechargeAsync` would; rejects with what it would throw. */
  async send(args: Record<string, unknown>, options: CallOptions): Promise<Fields | null> {
    if (!isRechargeArgs(args)) return this.throughSoap(args, options);
    const request = headersOf.buildRequest(
      this.endpoint,
      this.envelope(args),
      { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${this.operation.soapAction}"` },
      options,
    ) as Parameters<typeof soapHttpRequest>[0];
    const answer = await soapHttpRequest(request);
    const fields =
      answer.status === 200 ? readPlainRechargeAnswer(answer.data, this.operation.namespace) : null;
    return fields ?? this.throughSoap(args, { ...options, recordedAnswer: answer satisfies RecordedAnswer });
  }

  private async throughSoap(args: Record<string, unknown>, options: CallOptions): Promise<Fields | null> {
    const [result] = (await this.client.RechargeAsync(args, options)) as [Fields | null];
    return result;
  }
}
