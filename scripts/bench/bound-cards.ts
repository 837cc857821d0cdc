import type pg from 'pg';

/**
 * Straight through SQL: `cards` users, each the withholding payer of one card (C0000001, C0000002, …) with an
 * ACTIVE agreement covering it (agreement_cards, since families: migration 0005). No swipe of a benchmark
 * reaches Alipay or the card system, so nothing else is needed to be approved.
 */
export async function insertBoundCards(
  pool: pg.Pool,
  schoolId: string,
  cards: number,
  bindPasswordEnc: string,
): Promise<void> {
  await pool.query(
    `with u as (
       insert into users (alipay_open_id) select 'bench-open-' || g from generate_series(1, $2::int) g returning id, alipay_open_id
     ), b as (
       insert into bindings (school_id, user_id, card_no, holder_name, relation, is_withholding_payer, vendor_bind_password_enc)
       select $1, u.id, 'C' || lpad(substr(u.alipay_open_id, 12), 7, '0'), '张三', 'SELF', true, $3 from u returning id, user_id, card_no
     )
     , a as (
       insert into withholding_agreements (school_id, user_id, external_agreement_no, agreement_no, status, sign_scene, signed_at)
       select $1, b.user_id, 'A' || md5(b.id::text), 'AG' || md5(b.user_id::text), 'ACTIVE', 'INDUSTRY|CAMPUS', now() from b
       returning id, user_id
     )
     insert into agreement_cards (agreement_id, binding_id, school_id, card_no)
     select a.id, b.id, $1, b.card_no from a join b on b.user_id = a.user_id`,
    [schoolId, cards, bindPasswordEnc],
  );
}

/**
 * The n-th swipe of a batch for `decide_deductions` (its JSON row): a fresh txnNo, nonce and deduction number
 * each, 1.00 yuan on card C(1 + n mod cards), as `insertBoundCards` made them.
 */
export function benchSwipe(n: number, schoolId: string, cards: number, now: string) {
  return {
    client_id: 'bench',
    nonce: `N${n}`,
    nonce_expires_at: now,
    school_id: schoolId,
    txn_no: `T${n}`,
    card_no: `C${String(1 + (n % cards)).padStart(7, '0')}`,
    dynamic_code_hash: null,
    amount_fen: 100,
    terminal_id: 'T01',
    occurred_at: now,
    deduction_no: `D${n}`,
    decided_at: now,
  };
}
