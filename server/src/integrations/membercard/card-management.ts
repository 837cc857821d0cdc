import type crypto from 'node:crypto';
import { signParams } from './signature.js';

/**
 * Our calls to a school's AntBuilder card management (mini-core), seed 003 "业务系统调用卡管系统":
 * `POST {base}/card/update` (points) and `POST {base}/card/changeTemplate`, JSON bodies of string values
 * signed with our RSA2 key (signature.ts). Card management answers `{"status":"OK"}` or
 * `{"status":…,"errmsg":…}`.
 *
 * Failures are classified for the sync job:
 *   final:     card management answered and refused (a non-OK status: unknown card, bad signature, …);
 *              the same request will be refused again.
 *   retryable: it did not act: no connection, a 5xx, 429, or an answer we cannot read.
 *   unknown:   the request went out and no answer came back (timeout, dropped connection). Both calls set
 *              an absolute state (the points total, the target template), so asking again is safe.
 */
export type CardManagementFailureClass = 'retryable' | 'final' | 'unknown';

export class CardManagementError extends Error {
  override name = 'CardManagementError';
  constructor(
    readonly classification: CardManagementFailureClass,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CardManagementTarget {
  /** Card management's base URL (where mini-core serves /card/…). */
  baseUrl: string;
  privateKey: crypto.KeyObject;
  timeoutMs: number;
}

export interface PointsUpdate {
  templateId: string;
  bizCardNo: string;
  point: number;
  changeReason: string;
}

export interface TemplateChange {
  templateId: string;
  bizCardNo: string;
  targetTemplateId: string;
  changeReason: string;
}

export function updatePoints(target: CardManagementTarget, update: PointsUpdate): Promise<void> {
  return post(target, '/card/update', {
    templateId: update.templateId,
    bizCardNo: update.bizCardNo,
    point: String(update.point),
    changeReason: update.changeReason,
  });
}

export function changeTemplate(target: CardManagementTarget, change: TemplateChange): Promise<void> {
  return post(target, '/card/changeTemplate', {
    templateId: change.templateId,
    bizCardNo: change.bizCardNo,
    targetTemplateId: change.targetTemplateId,
    changeReason: change.changeReason,
  });
}

async function post(
  target: CardManagementTarget,
  path: string,
  params: Record<string, string>,
): Promise<void> {
  const body = JSON.stringify(signParams(params, target.privateKey));
  let response: Response;
  try {
    response = await fetch(target.baseUrl.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      body,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    throw classifyTransportFailure(error);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new CardManagementError('unknown', 'CONNECTION_LOST', (error as Error).message);
  }
  if (response.status >= 500 || response.status === 429) {
    throw new CardManagementError('retryable', `HTTP_${response.status}`, text.slice(0, 200));
  }
  let answer: { status?: unknown; errmsg?: unknown };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new CardManagementError(
      'retryable',
      'BAD_RESPONSE',
      `HTTP ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  if (answer?.status === 'OK') return;
  if (typeof answer?.status !== 'string') {
    throw new CardManagementError(
      'retryable',
      'BAD_RESPONSE',
      `HTTP ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  throw new CardManagementError(
    'final',
    answer.status,
    typeof answer.errmsg === 'string' ? answer.errmsg : `card management answered ${answer.status}`,
  );
}

function classifyTransportFailure(error: unknown): CardManagementError {
  const cause = (error as { cause?: { code?: string } }).cause;
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new CardManagementError('unknown', 'TIMEOUT', 'card management did not answer in time');
  }
  const code = cause?.code ?? '';
  // Refused or unresolvable: the request never reached card management.
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return new CardManagementError('retryable', 'UNREACHABLE', `${code}: card management is not reachable`);
  }
  return new CardManagementError('unknown', 'CONNECTION_LOST', (error as Error).message);
}
