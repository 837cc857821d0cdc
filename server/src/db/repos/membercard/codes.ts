import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { membershipCodes } from '../../schema.js';

export async function insertCode(
  db: Executor,
  code: {
    codeHash: string;
    schoolId: string;
    membershipCardId: string;
    cardNo: string;
    expiresAt: Date;
    now: Date;
  },
): Promise<void> {
  await db.insert(membershipCodes).values({
    codeHash: code.codeHash,
    schoolId: code.schoolId,
    membershipCardId: code.membershipCardId,
    cardNo: code.cardNo,
    expiresAt: code.expiresAt,
    createdAt: code.now,
  });
}

/** A card that left the wallet takes its codes with it: the unused ones expire now. */
export async function expireUnusedCodes(db: Executor, membershipCardId: string, now: Date): Promise<number> {
  const rows = await db
    .update(membershipCodes)
    .set({ expiresAt: now })
    .where(
      and(
        eq(membershipCodes.membershipCardId, membershipCardId),
        isNull(membershipCodes.usedAt),
        gt(membershipCodes.expiresAt, now),
      ),
    )
    .returning({ codeHash: membershipCodes.codeHash });
  return rows.length;
}
