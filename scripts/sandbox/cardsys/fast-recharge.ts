/**
 * The sandbox's hot path: the Recharge requests `bench:recharge` sends at 300/s, read and answered without
 * `soap`'s server, whose envelope parsing (sax, xmlToObject) and writing were ≈ 50 % of the sandbox's CPU in
 * that benchmark (issue 18 §2; the sandbox plays the school's system, which runs elsewhere in production).
 * Only the exact document node-soap clients write for Recharge (and the platform's hand-written call, the
 * same bytes) is read here, and only when every field is plain text; every other request goes to `soap`'s
 * server as before. The same operation (soap-service.ts: WS-Security check, the vendor's field rules, the
 * ledger) answers, and its answer or fault is written as `soap`'s server writes it (a test compares both).
 */
// soap's own escaping of every text it writes, so that the bytes are the ones `soap` writes.
import { xmlEscape } from 'soap/lib/utils.js';
import { CARD_SERVICE_NAMESPACE } from './wsdl.js';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';
const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TEXT = '([^<&]*(?:&(?:lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\\d+);[^<&]*)*)';
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';

const REQUEST = new RegExp(
  '^' +
    escapeRegExp(
      `${ENVELOPE_OPEN} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"  xmlns:tns="${CARD_SERVICE_NAMESPACE}">` +
        `<soap:Header><wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}">` +
        `<wsse:UsernameToken xmlns:wsu="${WSU}" wsu:Id="SecurityToken-`,
    ) +
    `${TIME}"><wsse:Username>${TEXT}</wsse:Username>` +
    escapeRegExp(`<wsse:Password Type="${PASSWORD_TEXT}">`) +
    `${TEXT}</wsse:Password><wsu:Created>${TIME}</wsu:Created></wsse:UsernameToken></wsse:Security></soap:Header>` +
    escapeRegExp(`<soap:Body><Recharge xmlns="${CARD_SERVICE_NAMESPACE}">`) +
    `<CardNo>${TEXT}</CardNo><Amount>${TEXT}</Amount><FlowNo>${TEXT}</FlowNo>` +
    '</Recharge></soap:Body></soap:Envelope>$',
);

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, name: string) =>
    name.startsWith('#x')
      ? String.fromCodePoint(parseInt(name.slice(2), 16))
      : name.startsWith('#')
        ? String.fromCodePoint(Number(name.slice(1)))
        : ENTITIES[name],
  );
}

/** What `soap`'s server hands the operation: its arguments and the SOAP headers (the UsernameToken). */
export interface ReadRecharge {
  args: { CardNo: string; Amount: string; FlowNo: string };
  headers: { Security: { UsernameToken: { Username: string; Password: string } } };
}

/** The request's fields, or null when `soap`'s server must read it (any other shape, blank-edged or empty text). */
export function readRechargeRequest(body: string): ReadRecharge | null {
  const match = REQUEST.exec(body);
  if (!match) return null;
  const [username, password, cardNo, amount, flowNo] = match.slice(1).map(decode);
  if ([username, password, cardNo, amount, flowNo].some((text) => text === '' || text.trim() !== text))
    return null;
  return {
    args: { CardNo: cardNo, Amount: amount, FlowNo: flowNo },
    headers: { Security: { UsernameToken: { Username: username, Password: password } } },
  };
}

function elements(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) =>
      typeof value === 'object'
        ? `<${name}>${elements(value as Record<string, unknown>)}</${name}>`
        : `<${name}>${xmlEscape(String(value))}</${name}>`,
    )
    .join('');
}

function document(body: string): string {
  return `${ENVELOPE_OPEN}  xmlns:tns="${CARD_SERVICE_NAMESPACE}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

/** The answer document `soap`'s server writes for Recharge's result (its text fields in order). */
export function rechargeAnswer(result: Record<string, string>): string {
  return document(
    `<RechargeResponse xmlns="${CARD_SERVICE_NAMESPACE}">${elements(result)}</RechargeResponse>`,
  );
}

/** The fault document `soap`'s server writes for an operation's thrown `{ Fault }` (statusCode goes to HTTP). */
export function faultAnswer(fault: Record<string, unknown>): string {
  const { statusCode: _statusCode, ...fields } = fault;
  return document(`<soap:Fault>${elements(fields)}</soap:Fault>`);
}
