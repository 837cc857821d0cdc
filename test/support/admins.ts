import assert from 'node:assert/strict';
import type { AdminRole } from '../../shared/admin-api.js';
import { createInvitation } from '../../server/src/domain/admin/admins.js';
import type { Actor } from '../../server/src/domain/audit/audit.js';
import type { Stack, StackUser } from './stack.js';

export const TEST_OPERATOR: Actor = { kind: 'OPERATOR', name: 'test-operator' };

/**
 * A new Alipay user made an admin of `schoolId` the way people become one: the operator's invitation
 * (domain call, as `npm run operator -- admin invite` does), redeemed over HTTP. Returns the user's
 * authorised client and ids.
 */
export async function adminOf(
  stack: Stack,
  schoolId: string,
  role: AdminRole,
  user?: StackUser,
): Promise<{ user: StackUser; http: Awaited<ReturnType<StackUser['login']>>; userId: string }> {
  const person = user ?? (await stack.createUser());
  const { code } = await createInvitation(stack.app.deps, TEST_OPERATOR, { schoolId, role });
  const http = await person.login();
  const redeemed = await http.post('/api/v1/admin/invitations/redeem', { code });
  assert.equal(redeemed.status, 201, redeemed.text);
  return { user: person, http, userId: http.id };
}
