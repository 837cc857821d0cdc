import crypto from 'node:crypto';
import { saveRosterEntries } from '../../../server/src/domain/roster/roster-entries.js';
import { request, type HttpResult } from '../../support/http.js';
import { testIdNumber, testMobile } from '../../support/identity.js';
import type { Stack, StackMembercard } from '../../support/stack.js';

export function membercardOf(stack: Stack): StackMembercard {
  if (!stack.membercard) throw new Error('start the stack with { membercard: {} }');
  return stack.membercard;
}

/** Calls one of our CRM routes the way card management does: JSON body, the school's token header. */
export function crm(
  stack: Stack,
  name: 'openCardInfo' | 'cardChange' | 'mdCodeChange',
  body: Record<string, unknown>,
  token: string | null = membercardOf(stack).crmToken,
): Promise<HttpResult> {
  return request('POST', `${stack.app.url}/crm/card/${name}`, {
    body,
    headers: token === null ? {} : { token },
  });
}

/** A made-up valid ID number and mobile, unique in this run. */
export function identifiers(): { idNumber: string; mobile: string } {
  return { idNumber: testIdNumber(), mobile: testMobile() };
}

/** A roster entry of the stack's school, stored as the roster import stores it (issue 13 owns the import). */
export async function addRosterEntry(
  stack: Stack,
  entry: { name: string; cardNo: string; idNumber?: string; mobile?: string; isStudent?: boolean },
): Promise<void> {
  await saveRosterEntries(stack.app.deps, stack.school.id, [
    {
      cardNo: entry.cardNo,
      name: entry.name,
      idNumber: entry.idNumber,
      phone: entry.mobile,
      isStudent: entry.isStudent,
    },
  ]);
}

/** An Alipay user id as card management names users (2088 + 12 digits). */
export function alipayUserId(): string {
  return `2088${crypto.randomInt(10 ** 11, 10 ** 12 - 1)}`;
}

/** The user's campus card opened and added to their wallet through the CRM routes, as card management does. */
export async function cardInWallet(stack: Stack, user: { openId: string }): Promise<{ bizCardNo: string }> {
  const opened = await crm(stack, 'openCardInfo', { alipayUserId: user.openId });
  if (opened.status !== 200) throw new Error(`openCardInfo: ${opened.text}`);
  const added = await crm(stack, 'cardChange', {
    type: 'ADD',
    templateId: opened.body.templateId ?? membercardOf(stack).templates.student,
    alipayUserId: user.openId,
    bizCardNo: opened.body.bizCardNo,
    alipayCardNo: `${Date.now()}${crypto.randomInt(1e6)}`,
  });
  if (added.status !== 200) throw new Error(`cardChange: ${added.text}`);
  return { bizCardNo: opened.body.bizCardNo };
}

/** A fresh dynamic code for the user's wallet card (mdCodeChange). */
export async function dynamicCode(
  stack: Stack,
  user: { openId: string },
  expireTime?: number,
): Promise<string> {
  const res = await crm(stack, 'mdCodeChange', {
    appId: membercardOf(stack).appId,
    templateId: membercardOf(stack).templates.student,
    alipayUserId: user.openId,
    ...(expireTime ? { expireTime } : {}),
  });
  if (res.status !== 200) throw new Error(`mdCodeChange: ${res.text}`);
  return res.body.codeValue as string;
}
