-- decide_deduction as in 0005 (comments in 0002), with one change: swipes of one card are serialised by a
-- transaction-scoped advisory lock on (school, card) instead of SELECT … FOR UPDATE on the payer's binding.
-- Both make the daily-limit sum exact under concurrency (each PL/pgSQL statement takes a fresh snapshot
-- once the lock is held); the advisory lock lives in memory only, while the row lock rewrote the binding
-- row and logged it on every swipe (bench:deduct, WAL per request).
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
