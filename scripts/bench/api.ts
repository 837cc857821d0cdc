/**
 * The benchmarks' HTTP client (keep-alive, bounded sockets) and the seeding steps they share, done the way
 * a user does them: through the mini-program API and the sandboxes' control APIs.
 */
import http from 'node:http';
import type { BenchStack } from './harness.js';

export const agent = new http.Agent({ keepAlive: true, maxSockets: Number(process.env.BENCH_SOCKETS ?? 64) });

export function request(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function json(method: string, url: string, body?: unknown, token?: string) {
  const res = await request(method, url, body === undefined ? undefined : JSON.stringify(body), {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  return { status: res.status, body: res.text ? JSON.parse(res.text) : undefined, text: res.text };
}

export interface BenchPayer {
  userId: string;
  openId: string;
  token: string;
  bindingId: string;
  cardNo: string;
}

/** An Alipay user logged in to the BFF with one freshly bound card of the stack's school. */
export async function payerWithCard(
  stack: BenchStack,
  index: number,
  balanceFen = 100_000_000,
): Promise<BenchPayer> {
  const user = await stack.alipay.control.createUser({ balanceFen });
  const { authCode } = await stack.alipay.control.issueAuthCode({
    userId: user.userId,
    appId: stack.alipay.appId,
  });
  const session = await json('POST', `${stack.bffUrl}/api/v1/session`, { authCode });
  if (session.status !== 200) throw new Error(`login failed: ${session.text}`);
  const card = await stack.cardsys.control.createCard(stack.school.code, {
    name: `学生${index}`,
    balanceFen: 0,
  });
  const bound = await json(
    'POST',
    `${stack.bffUrl}/api/v1/bindings`,
    // The holder's proof of identity (issue 12): the student number the card system knows.
    {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.name,
      relation: 'SELF',
      studentNo: card.studentNo,
    },
    session.body.token,
  );
  if (bound.status !== 201) throw new Error(`binding failed: ${bound.text}`);
  return {
    userId: user.userId,
    openId: user.openIds[stack.alipay.appId],
    token: session.body.token,
    bindingId: bound.body.id,
    cardNo: card.cardNo,
  };
}

/** Signs withholding for the payer's card as the mini-program and the Alipay app do, until it is bound. */
export async function signWithholding(stack: BenchStack, payer: BenchPayer): Promise<void> {
  const sign = await json(
    'POST',
    `${stack.bffUrl}/api/v1/withholding/sign`,
    { bindingId: payer.bindingId },
    payer.token,
  );
  if (sign.status !== 201) throw new Error(`sign failed: ${sign.text}`);
  const signed = await stack.alipay.control.signAgreement({
    signStr: sign.body.signStr,
    userId: payer.userId,
  });
  if (signed.resultStatus !== '7000') throw new Error(`signing refused: ${signed.memo}`);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const view = await json('GET', `${stack.bffUrl}/api/v1/withholding`, undefined, payer.token);
    if (view.body.items[0]?.status === 'ACTIVE' && view.body.items[0]?.card?.isBoundAtCardSystem) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('withholding did not become ACTIVE');
}
