-- decide_deduction, now also for swipes identified by a membership-card dynamic code (DESIGN §6.4) instead of
-- a card number. Everything of 0001 (one round trip, the nonce, the (school, txn_no) idempotency, the per-card
-- advisory lock), of 0006 (families: the covering agreement and per-card limits; the occurredAt window) and of
-- 0010 (SCHOOL_SUSPENDED first) holds, with the rule order of server/src/domain/withholding/deductions.ts;
-- whoever replaces this function next starts from this file. What is new:
--
-- * p_card_no or p_dynamic_code_hash is given (the route asks for exactly one). A code is resolved first:
--   unknown → CODE_UNKNOWN, used → CODE_USED, expired → CODE_EXPIRED; otherwise it is marked used by this
--   txn_no and the card's normal decision follows. The code's row is locked (FOR UPDATE) until commit, so of
--   two swipes presenting one code the second waits for the first and then finds it used: single use holds
--   under concurrency. The decision spends the code whatever it decides: a code is one attempt to pay.
-- * The answer names the card (card_no), so that a POS that scanned a code can record the sale on it.
-- * A repeat of a txn_no is the same sale when it presents the same code (or, for card swipes, the same card)
--   and amount; a code-declined swipe is stored like any decline, with card_no null when the code named no
--   card, so a repeat gets its first answer.
-- * A reversal tombstone is recognised by its missing amount (card_no is now also null on unknown codes).
drop function if exists decide_deduction(text, text, timestamptz, uuid, text, text, integer, text, timestamptz, text, timestamptz);
--> statement-breakpoint
drop function if exists deduction_answer(deductions, text, integer, timestamptz);
--> statement-breakpoint
create function deduction_answer(
  p_row deductions,
  p_card_no text,
  p_dynamic_code_hash text,
  p_amount_fen integer,
  p_now timestamptz
) returns table (
  outcome text,
  deduction_id uuid,
  deduction_no text,
  decision text,
  decline_reason text,
  status text,
  card_no text
)
language plpgsql
set enable_seqscan = off
as $$
#variable_conflict use_column
begin
  if p_row.amount_fen is null then
    -- A reversal tombstone takes the late deduction's identification and amount, so that a later repeat with
    -- other values is a conflict; it answers DECLINED / REVERSED (the card system already paid otherwise).
    update deductions d
      set card_no = p_card_no, dynamic_code_hash = p_dynamic_code_hash, amount_fen = p_amount_fen, updated_at = p_now
      where d.id = p_row.id and d.amount_fen is null;
    return query select 'REPEAT'::text, p_row.id, p_row.deduction_no, p_row.decision, p_row.decline_reason,
      p_row.status, p_card_no;
  elsif p_row.amount_fen = p_amount_fen
    and (case when p_dynamic_code_hash is not null then p_row.dynamic_code_hash = p_dynamic_code_hash
              else p_row.dynamic_code_hash is null and p_row.card_no = p_card_no end) then
    return query select 'REPEAT'::text, p_row.id, p_row.deduction_no, p_row.decision, p_row.decline_reason,
      p_row.status, p_row.card_no;
  else
    return query select 'CONFLICT'::text, p_row.id, p_row.deduction_no, p_row.decision, p_row.decline_reason,
      p_row.status, p_row.card_no;
  end if;
end;
$$;
--> statement-breakpoint
create function decide_deduction(
  p_client_id text,
  p_nonce text,
  p_nonce_expires_at timestamptz,
  p_school_id uuid,
  p_txn_no text,
  p_card_no text,
  p_dynamic_code_hash text,
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
  status text,
  card_no text
)
language plpgsql
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  v_row deductions%rowtype;
  v_school record;
  v_payer record;
  v_payer_user_id uuid;
  v_cover record;
  v_code record;
  v_card_no text := p_card_no;
  v_agreement_id uuid;
  v_txn_limit integer;
  v_daily_limit integer;
  v_reason text;
  v_day_start timestamptz;
  v_today_fen bigint;
begin
  insert into gateway_nonces as n (client_id, nonce, expires_at)
    values (p_client_id, p_nonce, p_nonce_expires_at)
    on conflict do nothing;
  if not found then
    return query select 'REPLAY'::text, null::uuid, null::text, null::text, null::text, null::text, null::text;
    return;
  end if;

  select * into v_row from deductions d where d.school_id = p_school_id and d.txn_no = p_txn_no;
  if found then
    return query select * from deduction_answer(v_row, p_card_no, p_dynamic_code_hash, p_amount_fen, p_now);
    return;
  end if;

  if p_dynamic_code_hash is not null then
    select c.card_no, c.expires_at, c.used_at into v_code
      from membership_codes c
      where c.code_hash = p_dynamic_code_hash and c.school_id = p_school_id
      for update;
    if not found then
      v_reason := 'CODE_UNKNOWN';
      v_card_no := null;
    else
      v_card_no := v_code.card_no;
      if v_code.used_at is not null then
        v_reason := 'CODE_USED';
      elsif v_code.expires_at <= p_now then
        v_reason := 'CODE_EXPIRED';
      else
        update membership_codes c set used_at = p_now, used_txn_no = p_txn_no
          where c.code_hash = p_dynamic_code_hash;
      end if;
    end if;
  end if;

  if v_reason is null then
    select s.status, s.withholding_enabled, s.txn_limit_fen, s.daily_limit_fen, s.swipe_max_age_minutes,
           s.swipe_max_ahead_minutes into v_school
      from schools s where s.id = p_school_id;

    -- Swipes of one card go in single file, so the daily sum below is exact. An advisory lock rather than
    -- FOR UPDATE on the binding row: a row lock writes the row (and a WAL record) on every swipe.
    perform pg_advisory_xact_lock(hashtextextended(p_school_id::text || '/' || v_card_no, 7355609));

    select b.id, b.user_id, b.status into v_payer
      from bindings b
      where b.school_id = p_school_id and b.card_no = v_card_no
        and b.is_withholding_payer and b.status <> 'UNBOUND';
    v_payer_user_id := v_payer.user_id;

    -- A suspended school (operator, or its Alipay authorization cancelled or invalid, DESIGN §7.0) takes no new
    -- money; the gateway learns why, so the till can say so. A PENDING school never had withholding.
    if v_school.status = 'SUSPENDED' then
      v_reason := 'SCHOOL_SUSPENDED';
    elsif v_school.status is distinct from 'ACTIVE' or not v_school.withholding_enabled then
      v_reason := 'WITHHOLDING_DISABLED';
    elsif p_occurred_at < p_now - make_interval(mins => v_school.swipe_max_age_minutes)
       or p_occurred_at > p_now + make_interval(mins => v_school.swipe_max_ahead_minutes) then
      v_reason := 'OUTSIDE_TIME_WINDOW';
    elsif v_payer.id is null then
      v_reason := 'NOT_BOUND';
    elsif v_payer.status = 'LOST' then
      v_reason := 'CARD_LOST';
    else
      -- The payer's ACTIVE agreement at this school must cover this card (families: one agreement, several
      -- cards, each with the payer's own limits under the school's).
      select a.id, c.txn_limit_fen, c.daily_limit_fen into v_cover
        from agreement_cards c join withholding_agreements a on a.id = c.agreement_id
        where c.binding_id = v_payer.id and c.removed_at is null and a.status = 'ACTIVE'
          and a.user_id = v_payer.user_id and a.school_id = p_school_id
        limit 1;
      v_agreement_id := v_cover.id;
      v_txn_limit := least(v_school.txn_limit_fen, coalesce(v_cover.txn_limit_fen, v_school.txn_limit_fen));
      v_daily_limit := least(v_school.daily_limit_fen, coalesce(v_cover.daily_limit_fen, v_school.daily_limit_fen));
      if v_agreement_id is null then
        v_reason := 'NOT_SIGNED';
      elsif exists (select 1 from deductions d
                    where d.payer_user_id = v_payer.user_id and d.status in ('RETRYING', 'ARREARS')) then
        v_reason := 'IN_ARREARS';
      elsif p_amount_fen > v_txn_limit then
        v_reason := 'OVER_TXN_LIMIT';
      else
        -- The limit is per Beijing calendar day (the school's day), whatever the server's time zone.
        v_day_start := date_trunc('day', p_now at time zone 'Asia/Shanghai') at time zone 'Asia/Shanghai';
        select coalesce(sum(d.amount_fen), 0) into v_today_fen from deductions d
          where d.school_id = p_school_id and d.card_no = v_card_no and d.created_at >= v_day_start
            and d.decision = 'APPROVED' and d.status <> 'REVERSED';
        if v_today_fen + p_amount_fen > v_daily_limit then
          v_reason := 'OVER_DAILY_LIMIT';
        end if;
      end if;
    end if;
  end if;

  insert into deductions as d (
    id, deduction_no, school_id, txn_no, card_no, dynamic_code_hash, amount_fen, terminal_id, occurred_at,
    gateway_client_id, payer_user_id, agreement_id, decision, decline_reason, status, next_attempt_at,
    out_trade_no, created_at, updated_at
  ) values (
    uuidv7(), p_deduction_no, p_school_id, p_txn_no, v_card_no, p_dynamic_code_hash, p_amount_fen, p_terminal_id,
    p_occurred_at, p_client_id, v_payer_user_id, v_agreement_id,
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
      v_row.status, v_row.card_no;
    return;
  end if;

  -- Lost the race to a concurrent request with the same txn_no, which has committed by now.
  select * into v_row from deductions d where d.school_id = p_school_id and d.txn_no = p_txn_no;
  return query select * from deduction_answer(v_row, p_card_no, p_dynamic_code_hash, p_amount_fen, p_now);
end;
$$;
