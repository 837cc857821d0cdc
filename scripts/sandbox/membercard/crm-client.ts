/**
 * Card management calling a school's CRM (seed 003 "业务系统提供接口给卡管系统"): POST
 * `${crmBaseUrl}/card/<name>`, JSON body, the system's token in the `token` header. Every call is kept with
 * what came of it, so that a wrong token (401), a refusal, or a CRM that is down are visible in the state.
 */
import type { CrmCallView, CrmOutcome } from './control-types.js';
import type { System } from './state.js';

export async function callCrm(
  system: System,
  name: 'openCardInfo' | 'cardChange' | 'mdCodeChange',
  request: Record<string, unknown>,
): Promise<CrmCallView> {
  const path = `/card/${name}`;
  const at = new Date().toISOString();
  const done = (
    outcome: CrmOutcome,
    httpStatus: number | null,
    answer: unknown,
    errmsg: string | null,
  ): CrmCallView => ({ at, path, request, outcome, httpStatus, answer, errmsg });
  let response: Response;
  try {
    response = await fetch(system.crmBaseUrl.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json;charset=UTF-8', token: system.token },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(system.timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if ((error as Error).name === 'TimeoutError') return done('NO_ANSWER', null, null, 'timeout');
    return done('CONNECT_FAILED', null, null, cause?.code ?? (error as Error).message);
  }
  const text = await response.text().catch(() => '');
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // keep the text
  }
  const errmsg =
    answer && typeof answer === 'object' && typeof (answer as { errmsg?: unknown }).errmsg === 'string'
      ? (answer as { errmsg: string }).errmsg
      : null;
  if (response.status === 401 || response.status === 403)
    return done('AUTH_FAILED', response.status, answer, errmsg);
  if (response.status >= 400) return done('REFUSED', response.status, answer, errmsg ?? text.slice(0, 200));
  return done('OK', response.status, answer, null);
}
