/**
 * The BFF's mini-program API (`/api/v1`, DESIGN §6.1). Every page talks to the server through here:
 * JSON over my.request, `Authorization: Bearer <token>`, a silent auth_base login when there is no token,
 * and one silent re-login + retry when the server says the session is gone. Failures become ApiError with
 * the Chinese sentence of their code.
 */
import type {
  BindingDetail,
  CampusCodeEntry,
  BindingView,
  BindingsResponse,
  CreateBindingRequest,
  CreateRechargeResponse,
  DebtsResponse,
  MeResponse,
  MessageSubscriptionsView,
  OtherBindingsResponse,
  PhoneShareResponse,
  RechargeView,
  ReceiptView,
  RepayResponse,
  RepaymentView,
  RosterLookupRequest,
  RosterLookupResponse,
  SchoolView,
  SchoolsResponse,
  SessionResponse,
  StatementResponse,
  TerminalOrderPageView,
  TerminalPayResponse,
  WithholdingCardRequest,
  WithholdingCardsRequest,
  WithholdingResponse,
  WithholdingSignResponse,
  WithholdingView,
} from '../shared/api';
import { ApiError } from './api-error';
import { BFF_URL } from './config';
import {
  JsapiFailure,
  getAuthCode,
  httpRequest,
  uploadFile,
  type HttpAnswer,
  type HttpMethod,
} from './jsapi';
import { clearSession, currentToken, saveSession } from './session';

const API_PREFIX = '/api/v1';
const REQUEST_TIMEOUT_MS = 15 * 1000;
const SESSION_CODES = ['UNAUTHENTICATED', 'SESSION_EXPIRED'];

type Query = Record<string, string | number | undefined>;

interface CallOptions {
  query?: Query;
  body?: unknown;
}

function urlFor(path: string, query: Query = {}): string {
  const pairs = Object.keys(query)
    .filter((key) => query[key] !== undefined)
    .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(String(query[key]))}`);
  return `${BFF_URL.replace(/\/+$/, '')}${API_PREFIX}${path}${pairs.length ? `?${pairs.join('&')}` : ''}`;
}

function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  if (data.trim() === '') return undefined;
  return JSON.parse(data);
}

/** The server's error model: `{"error":{"code","message","field"},"requestId"}` (DESIGN §6). */
function errorFromAnswer(status: number | undefined, data: unknown): ApiError {
  let body: { error?: { code?: unknown; field?: unknown }; requestId?: unknown } | undefined;
  try {
    body = parseBody(data) as typeof body;
  } catch {
    body = undefined;
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
  const field = typeof body?.error?.field === 'string' ? body.error.field : undefined;
  const requestId = typeof body?.requestId === 'string' ? body.requestId : undefined;
  if (code) return new ApiError(code, status, field, requestId);
  // No error body (a proxy answered): judge by the status alone.
  if (status === 401) return new ApiError('UNAUTHENTICATED', status);
  if (status === 429) return new ApiError('RATE_LIMITED', status);
  if (status !== undefined && status >= 500) return new ApiError('SERVICE_UNAVAILABLE', status);
  return new ApiError('BAD_RESPONSE', status);
}

/** my.request fail codes (ALIPAY.md §5): 12 network, 13 timeout, 14 parse, 19 HTTP, 4/11 domain not whitelisted. */
function errorFromFailure(failure: JsapiFailure): ApiError {
  switch (failure.error) {
    case 19:
      return errorFromAnswer(failure.status, failure.data);
    case 13:
      return new ApiError('TIMEOUT');
    case 14:
      return new ApiError('BAD_RESPONSE');
    case 4:
    case 11:
      return new ApiError('DOMAIN_NOT_ALLOWED');
    default:
      return new ApiError('NETWORK_ERROR');
  }
}

async function send<T>(
  method: HttpMethod,
  path: string,
  options: CallOptions,
  token: string | null,
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let answer;
  try {
    answer = await httpRequest({
      url: urlFor(path, options.query),
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  } catch (error) {
    if (error instanceof JsapiFailure) throw errorFromFailure(error);
    throw new ApiError('NETWORK_ERROR');
  }
  return resultOf<T>(answer);
}

function resultOf<T>(answer: HttpAnswer): T {
  // Some base libraries call `success` for every status; the error model decides, not the callback.
  if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer.status, answer.data);
  try {
    return parseBody(answer.data) as T;
  } catch {
    throw new ApiError('BAD_RESPONSE', answer.status);
  }
}

let loginInFlight: Promise<string> | null = null;

async function loginOnce(): Promise<string> {
  let authCode: string;
  try {
    authCode = await getAuthCode();
  } catch (error) {
    // 11: the person closed the authorisation; anything else: Alipay could not give a code.
    throw new ApiError(
      error instanceof JsapiFailure && error.error === 11 ? 'LOGIN_CANCELLED' : 'LOGIN_FAILED',
    );
  }
  const session = await send<SessionResponse>('POST', '/session', { body: { authCode } }, null);
  saveSession(session.token, session.expiresIn);
  return session.token;
}

/** auth_base code → POST /session → stored token. Concurrent callers share one login. */
export async function login(): Promise<string> {
  if (!loginInFlight) loginInFlight = loginOnce();
  const pending = loginInFlight;
  try {
    return await pending;
  } finally {
    if (loginInFlight === pending) loginInFlight = null;
  }
}

/** A stored token, or a fresh one from a silent login. */
export async function ensureSession(): Promise<string> {
  return currentToken() ?? login();
}

/** One API call with the session (and one silent re-login); services/admin-api.ts builds on it too. */
/** Runs a request with the session's token; when the server forgot or expired the session, logs in silently once and runs it again. */
async function withSession<T>(run: (token: string) => Promise<T>): Promise<T> {
  const token = await ensureSession();
  try {
    return await run(token);
  } catch (error) {
    if (!(error instanceof ApiError) || !SESSION_CODES.includes(error.code)) throw error;
    clearSession();
    return run(await login());
  }
}

export function call<T>(method: HttpMethod, path: string, options: CallOptions = {}): Promise<T> {
  return withSession((token) => send<T>(method, path, options, token));
}

/**
 * A multipart upload of one local file (my.uploadFile: the only way a mini-program sends a file), with the
 * same session and error model as `call`.
 */
export function upload<T>(
  path: string,
  file: { filePath: string; fileName: string; field: string },
  formData: Record<string, string> = {},
): Promise<T> {
  return withSession(async (token) => {
    let answer: HttpAnswer;
    try {
      answer = await uploadFile({
        url: urlFor(path),
        filePath: file.filePath,
        name: file.field,
        fileName: file.fileName,
        headers: { authorization: `Bearer ${token}` },
        formData,
      });
    } catch (error) {
      if (error instanceof JsapiFailure) throw errorFromFailure(error);
      throw new ApiError('NETWORK_ERROR');
    }
    return resultOf<T>(answer);
  });
}

export const api = {
  me: () => call<MeResponse>('GET', '/me'),
  /** Shares the Alipay mobile behind an auth_user code (schools that ask payers they do not know, seed 002 §1). */
  sharePhone: (authCode: string) => call<PhoneShareResponse>('POST', '/me/phone', { body: { authCode } }),

  /** An empty search lists every school: `q` is then left out rather than sent empty. */
  searchSchools: (q: string) =>
    call<SchoolsResponse>('GET', '/schools', { query: { q: q.trim() || undefined } }),

  createBinding: (request: CreateBindingRequest) => call<BindingView>('POST', '/bindings', { body: request }),
  lookupBindings: (request: RosterLookupRequest) =>
    call<RosterLookupResponse>('POST', '/bindings/lookup', { body: request }),
  binding: (bindingId: string) => call<BindingDetail>('GET', `/bindings/${encodeURIComponent(bindingId)}`),
  others: (bindingId: string) =>
    call<OtherBindingsResponse>('GET', `/bindings/${encodeURIComponent(bindingId)}/others`),
  approveOther: (bindingId: string, otherId: string) =>
    call<unknown>(
      'POST',
      `/bindings/${encodeURIComponent(bindingId)}/others/${encodeURIComponent(otherId)}/approve`,
    ),
  removeOther: (bindingId: string, otherId: string) =>
    call<unknown>(
      'DELETE',
      `/bindings/${encodeURIComponent(bindingId)}/others/${encodeURIComponent(otherId)}`,
    ),
  cancelLoss: (bindingId: string) =>
    call<unknown>('DELETE', `/bindings/${encodeURIComponent(bindingId)}/loss`),
  setBalanceAlert: (bindingId: string, thresholdFen: number | null) =>
    call<BindingView>('PUT', `/bindings/${encodeURIComponent(bindingId)}/balance-alert`, {
      body: { thresholdFen },
    }),
  messageSubscriptions: () => call<MessageSubscriptionsView>('GET', '/message-subscriptions'),
  recordSubscriptions: (accepted: string[]) =>
    call<MessageSubscriptionsView>('POST', '/message-subscriptions', { body: { accepted } }),
  unbind: (bindingId: string) => call<unknown>('DELETE', `/bindings/${encodeURIComponent(bindingId)}`),
  reportLoss: (bindingId: string) => call<unknown>('POST', `/bindings/${encodeURIComponent(bindingId)}/loss`),
  /** Where Alipay's campus code for this card's school opens (CAMPUS_CODE_NOT_AVAILABLE when not set up). */
  campusCodeEntry: (bindingId: string) =>
    call<CampusCodeEntry>('GET', `/bindings/${encodeURIComponent(bindingId)}/campus-code`),
  statement: (bindingId: string, page: number, range: { from?: string; to?: string } = {}) =>
    call<StatementResponse>('GET', `/bindings/${encodeURIComponent(bindingId)}/statement`, {
      query: { page, from: range.from || undefined, to: range.to || undefined },
    }),
  receipt: (bindingId: string, entryId: string) =>
    call<ReceiptView>(
      'GET',
      `/bindings/${encodeURIComponent(bindingId)}/statement/${encodeURIComponent(entryId)}`,
    ),

  terminalOrder: (orderNo: string) =>
    call<TerminalOrderPageView>('GET', `/terminal-orders/${encodeURIComponent(orderNo)}`),
  payTerminalOrder: (orderNo: string) =>
    call<TerminalPayResponse>('POST', `/terminal-orders/${encodeURIComponent(orderNo)}/pay`),
  createRecharge: (bindingId: string, amountFen: number) =>
    call<CreateRechargeResponse>('POST', '/recharges', { body: { bindingId, amountFen } }),
  recharge: (orderId: string) => call<RechargeView>('GET', `/recharges/${encodeURIComponent(orderId)}`),

  bindings: () => call<BindingsResponse>('GET', '/bindings'),
  signWithholding: (cards: WithholdingCardRequest[]) =>
    call<WithholdingSignResponse>('POST', '/withholding/sign', { body: { cards } }),
  changeWithholdingCards: (request: WithholdingCardsRequest) =>
    call<WithholdingView>('PUT', '/withholding/cards', { body: request }),
  withholding: () => call<WithholdingResponse>('GET', '/withholding'),
  unsignWithholding: (schoolId: string) => call<unknown>('DELETE', '/withholding', { query: { schoolId } }),

  debts: () => call<DebtsResponse>('GET', '/debts'),
  repayDebts: (schoolId?: string) =>
    call<RepayResponse>('POST', '/debts/repay', { body: schoolId ? { schoolId } : {} }),
  repayment: (repaymentId: string) =>
    call<RepaymentView>('GET', `/debts/repayments/${encodeURIComponent(repaymentId)}`),
};

/**
 * The school's settings (recharge range, withholding limits). The API has no GET /schools/:id, so the
 * school is looked up by name in the search and matched by id; null when the search does not list it.
 */
export async function findSchool(school: { id: string; name: string }): Promise<SchoolView | null> {
  const { items } = await api.searchSchools(school.name);
  return items.find((candidate) => candidate.id === school.id) ?? null;
}
