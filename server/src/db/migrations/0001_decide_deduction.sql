-- decide_deduction: the whole decision of POST /gateway/v1/deductions in one database round trip
-- (DESIGN §6.2, seed 000 §2.3). The rule order is documented in server/src/domain/deductions.ts and must
-- stay in step with it.
--
-- Why it is exact under concurrency (READ COMMITTED; each statement below takes a fresh snapshot):
-- * The nonce insert conflicts with any other use of the same (client, nonce), committed or in flight: a
--   concurrent replay waits for the first transaction and then finds the row → REPLAY.
-- * Swipes of one card are serialised by a transaction-scoped advisory lock on (school, card), taken before
--   the rules are read, so the daily-limit sum and the arrears check see every earlier approval of that
--   card. (A FOR UPDATE on the payer's binding would do the same but rewrites and logs that row on every
--   swipe; the advisory lock lives in memory.)
-- * Two requests with the same (school, txn_no) both reach the insert at most once each; the unique index
--   makes the second wait for the first and do nothing, and the re-read then returns the first answer (or
--   TXN_CONFLICT when card or amount differ). A declined deduction is stored too, so a repeat answers the same.
--
-- Outcome column: NEW (this call decided), REPEAT (an earlier call did; its answer), CONFLICT (same txn_no,
-- other card or amount), REPLAY (nonce already used: the caller answers 401).
--
-- Performance notes (bench:deduct):
-- * `set enable_seqscan = off`: the statements are planned once per connection and the plans kept; a
--   connection that first ran them while `deductions` was small kept a sequential scan for the daily-limit
--   sum and paid for it on every swipe as the table grew (1.4 ms per call after 3,000 rows). Every statement
--   has an index made for it.
-- * New deductions get time-ordered ids (uuidv7, PostgreSQL 18): random ids put every insert on a random
--   leaf page of the primary key, and after each checkpoint the first write to a page logs the whole page.
create or replace function decide_deduction(
  p_client_id text,
  p_nonce text,
  p_nonce_expires_at timestamptz,
  p_school_id uuid,
  p_txn_no text,
  p_card_no text,
  p_amount_fen integer,
  p_terminal_id text,
  p_occurred_at timestamptz,
  p_deduction_no text,
  p_now timestamptz
) returns table (
  outcome text,
  deduction_id uuid,
  deduction_no text,
  decision text,
  decline_reason text,
  status text
)
language plpgsql
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  v_row deductions%rowtype;
  v_school record;
  v_payer record;
  v_agreement_id uuid;
  v_reason text;
  v_day_start timestamptz;
  v_today_fen bigint;
begin
  insert into gateway_nonces as n (client_id, nonce, expires_at)
    values (p_client_id, p_nonce, p_nonce_expires_at)
    on conflict do nothing;
  if not found then
    return query select 'REPLAY'::text, null::uuid, null::text, null::text, null::text, null::text;
    return;
  end if;

  select * into v_row from deductions d where d.school_id = p_school_id and d.txn_no = p_txn_no;
  if found then
    return query select * from deduction_answer(v_row, p_card_no, p_amount_fen, p_now);
    return;
  end if;

  select s.status, s.withholding_enabled, s.txn_limit_fen, s.daily_limit_fen into v_school
    from schools s where s.id = p_school_id;

  -- Swipes of one card go in single file, so the daily sum below is exact. An advisory lock rather than
  -- FOR UPDATE on the binding row: a row lock writes the row (and a WAL record) on every swipe.
  perform pg_advisory_xact_lock(hashtextextended(p_school_id::text || '/' || p_card_no, 7355609));

  select b.id, b.user_id, b.status into v_payer
    from bindings b
    where b.school_id = p_school_id and b.card_no = p_card_no
      and b.is_withholding_payer and b.status <> 'UNBOUND';

  if not found or v_school.status is distinct from 'ACTIVE' or not v_school.withholding_enabled then
    v_reason := case when v_school.status is distinct from 'ACTIVE' or not v_school.withholding_enabled
                     then 'WITHHOLDING_DISABLED' else 'NOT_BOUND' end;
  elsif v_payer.status = 'LOST' then
    v_reason := 'CARD_LOST';
  else
    select a.id into v_agreement_id from withholding_agreements a
      where a.user_id = v_payer.user_id and a.school_id = p_school_id and a.status = 'ACTIVE';
    if v_agreement_id is null then
      v_reason := 'NOT_SIGNED';
    elsif exists (select 1 from deductions d
                  where d.payer_user_id = v_payer.user_id and d.status in ('RETRYING', 'ARREARS')) then
      v_reason := 'IN_ARREARS';
    elsif p_amount_fen > v_school.txn_limit_fen then
      v_reason := 'OVER_TXN_LIMIT';
    else
      -- The limit is per Beijing calendar day (the school's day), whatever the server's time zone.
      v_day_start := date_trunc('day', p_now at time zone 'Asia/Shanghai') at time zone 'Asia/Shanghai';
      select coalesce(sum(d.amount_fen), 0) into v_today_fen from deductions d
        where d.school_id = p_school_id and d.card_no = p_card_no and d.created_at >= v_day_start
          and d.decision = 'APPROVED' and d.status <> 'REVERSED';
      if v_today_fen + p_amount_fen > v_school.daily_limit_fen then
        v_reason := 'OVER_DAILY_LIMIT';
      end if;
    end if;
  end if;

  insert into deductions as d (
    id, deduction_no, school_id, txn_no, card_no, amount_fen, terminal_id, occurred_at, gateway_client_id,
    payer_user_id, agreement_id, decision, decline_reason, status, next_attempt_at, out_trade_no,
    created_at, updated_at
  ) values (
    uuidv7(), p_deduction_no, p_school_id, p_txn_no, p_card_no, p_amount_fen, p_terminal_id, p_occurred_at, p_client_id,
    v_payer.user_id, v_agreement_id,
    case when v_reason is null then 'APPROVED' else 'DECLINED' end,
    v_reason,
    case when v_reason is null then 'PENDING' else 'DECLINED' end,
    case when v_reason is null then p_now end,
    case when v_reason is null then p_deduction_no end,
    p_now, p_now
  )
  on conflict (school_id, txn_no) do nothing
  returning * into v_row;
  if found then
    return query select 'NEW'::text, v_row.id, v_row.deduction_no, v_row.decision, v_row.decline_reason,
      v_row.status;
    return;
  end if;

  -- Lost the race to a concurrent request with the same txn_no, which has committed by now.
  select * into v_row from deductions d where d.school_id = p_school_id and d.txn_no = p_txn_no;
  return query select * from deduction_answer(v_row, p_card_no, p_amount_fen, p_now);
end;
$$;
--> statement-breakpoint
-- The answer to a txn_no seen before. A reversal tombstone (no card, no amount yet) takes the late
-- deduction's card and amount, so that a later repeat with other values is a conflict, and answers
-- DECLINED / REVERSED: the card system already paid from the card balance.
create or replace function deduction_answer(
  p_row deductions,
  p_card_no text,
  p_amount_fen integer,
  p_now timestamptz
) returns table (
  outcome text,
  deduction_id uuid,
  deduction_no text,
  decision text,
  decline_reason text,
  status text
)
language plpgsql
set enable_seqscan = off
as $$
#variable_conflict use_column
begin
  if p_row.card_no is null then
    update deductions d set card_no = p_card_no, amount_fen = p_amount_fen, updated_at = p_now
      where d.id = p_row.id and d.card_no is null;
    return query select 'REPEAT'::text, p_row.id, p_row.deduction_no, p_row.decision, p_row.decline_reason,
      p_row.status;
  elsif p_row.card_no = p_card_no and p_row.amount_fen = p_amount_fen then
    return query select 'REPEAT'::text, p_row.id, p_row.deduction_no, p_row.decision, p_row.decline_reason,
      p_row.status;
  else
    return query select 'CONFLICT'::text, p_row.id, p_row.deduction_no, p_row.decision, p_row.decline_reason,
      p_row.status;
  end if;
end;
$$;
--> statement-breakpoint
-- The plans above also pick between indexes by the table's statistics; a young, fast-growing table is
-- re-analysed early (every 1 % or 500 rows) so that they are made from its real size, not from an empty one.
alter table deductions set (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 500);
