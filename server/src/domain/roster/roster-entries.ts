import {
  upsertRosterEntries,
  type PreparedRosterEntry,
  type RosterUpsertResult,
} from '../../db/repos/roster/roster-entries.js';
import type { Deps } from '../../deps.js';
import type { DataProtector } from '../../lib/crypto.js';
import { idNumberTail, normaliseIdNumber } from '../../../../shared/id-number.js';
import { normaliseMobile } from '../../../../shared/phone.js';

/**
 * The school's roster (seed 000 §2.1: name, ID number, whether a student; plus card and student number,
 * phones). Personal data is kept only as a keyed hash (for matching) and AES-GCM ciphertext (for masked
 * display), DESIGN §5. Validation of what a school sends (GB 11643 checksums, phone formats, duplicates) is
 * the import's job (issue #13); these functions take values already checked.
 */
export interface RosterEntryInput {
  cardNo: string;
  name: string;
  studentNo?: string | null;
  idNumber?: string | null;
  phone?: string | null;
  guardianPhone?: string | null;
  isStudent?: boolean;
}

/** Rows per statement: large enough to amortise the round trip, small enough for the parameter arrays. */
export const ROSTER_BATCH_SIZE = 2_000;

export function prepareRosterEntry(protector: DataProtector, input: RosterEntryInput): PreparedRosterEntry {
  const id = input.idNumber ? normaliseIdNumber(input.idNumber) : null;
  const phone = input.phone ? normaliseMobile(input.phone) : null;
  const guardianPhone = input.guardianPhone ? normaliseMobile(input.guardianPhone) : null;
  return {
    cardNo: input.cardNo.trim(),
    name: input.name.trim(),
    studentNo: input.studentNo?.trim() || null,
    idNumberHash: id ? protector.hash(id) : null,
    idNumberEnc: id ? protector.encrypt(id) : null,
    idTailHash: id ? protector.hash(idNumberTail(id)) : null,
    phoneHash: phone ? protector.hash(phone) : null,
    phoneEnc: phone ? protector.encrypt(phone) : null,
    guardianPhoneHash: guardianPhone ? protector.hash(guardianPhone) : null,
    guardianPhoneEnc: guardianPhone ? protector.encrypt(guardianPhone) : null,
    isStudent: input.isStudent ?? true,
  };
}

/** Hashes, encrypts and upserts roster rows by card number, in batches. Card numbers must be unique. */
export async function saveRosterEntries(
  deps: Pick<Deps, 'db' | 'protector' | 'clock'>,
  schoolId: string,
  inputs: RosterEntryInput[],
): Promise<RosterUpsertResult> {
  const total: RosterUpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  for (let start = 0; start < inputs.length; start += ROSTER_BATCH_SIZE) {
    const batch = inputs
      .slice(start, start + ROSTER_BATCH_SIZE)
      .map((i) => prepareRosterEntry(deps.protector, i));
    const result = await upsertRosterEntries(deps.db, schoolId, batch, deps.clock.now());
    total.inserted += result.inserted;
    total.updated += result.updated;
    total.unchanged += result.unchanged;
  }
  return total;
}
