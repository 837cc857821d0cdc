-- decide_deductions: the swipes that reach one API process together are decided together, in one
-- transaction: one commit and one WAL flush for all of them (issue 18 §1; the batching is
-- server/src/db/repos/withholding/decision-batches.ts). Whoever changes a rule next starts from this file.
--
-- The rules, the nonce, the (school, txn_no) idempotency and the dynamic code are those of 0017's
-- decide_deduction, unchanged and in the same order (server/src/domain/withholding/deductions.ts lists them);
-- they now live in decide_swipe, one swipe, which decide_deductions calls for each swipe of a batch in the
-- order the swipes came. A swipe sees the swipes before it in its batch exactly as it would see them
-- committed: the same card's approvals count in its day, the same txn_no is a repeat (or a conflict), the
-- same dynamic code is used.
--
-- Locks: a batch takes everything it may wait for before it writes anything but nonces, in one global order,
-- so two batches (of two API processes, or two in flight in one) never deadlock:
--   1. its nonces, inserted in (client_id, nonce) order (a nonce that another open transaction inserted is
--      waited for; a second use is a REPLAY);
--   2. the membership_codes rows of its dynamic codes, FOR UPDATE in code_hash order (single use);
--   3. advisory locks, in key order, on each card (the daily sum is exact: swipes of one card go in single
--      file) and on each (school, txn_no) (two batches never insert one txn_no at once).
-- A batch waiting in step n holds only locks of steps ≤ n taken in order, so no cycle can form.
--
-- One swipe's failure (an error inside its rules: a constraint, a bad value) is caught in its own
-- subtransaction and answered as outcome ERROR with the error; the others of the batch are decided as if it
-- had not been there. A failure of the batch's transaction itself (the commit, the connection) writes nothing
-- of any swipe; the caller answers each with a retryable error.
--
-- decide_deduction keeps its 12 arguments and answers: it decides a batch of one.
drop function if exists decide_deduction(text, text, timestamptz, uuid, text, text, text, integer, text, timestamptz, text, timestamptz);
--> statement-breakpoint
create function deduction_swipes(p_swipes jsonb) returns table (
  swipe integer,
  client_id text,
  nonce text,
  nonce_expires_at timestamptz,
  school_id uuid,
  txn_no text,
  card_no text,
  dynamic_code_hash text,
  amount_fen integer,
  terminal_id text,
  occurred_at timestamptz,
  deduction_no text,
  decided_at timestamptz
)
language sql
stable
as $$
  select s.swipe::integer, s.client_id, s.nonce, s.nonce_expires_at, s.school_id, s.txn_no, s.card_no,
    s.dynamic_code_hash, s.amount_fen, s.terminal_id, s.occurred_at, s.deduction_no, s.decided_at
  from rows from (jsonb_to_recordset(p_swipes) as (
    client_id text, nonce text, nonce_expires_at timestamptz, school_id uuid, txn_no text, card_no text,
    dynamic_code_hash text, amount_fen integer, terminal_id text, occurred_at timestamptz, deduction_no text,
    decided_at timestamptz
  )) with ordinality as s(client_id, nonce, nonce_expires_at, school_id, txn_no, card_no, dynamic_code_hash,
    amount_fen, terminal_id, occurred_at, deduction_no, decided_at, swipe)
$$;
--> statement-breakpoint
create function decide_swipe(
  p_client_id text,
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
  -- The caller (decide_deductions) has spent the nonce and holds the locks of the code, the card and the txn_no.
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

  -- Lost the race to a concurrent reversal (its tombstone), which has committed by now.
  select * into v_row from deductions d where d.school_id = p_school_id and d.txn_no = p_txn_no;
  return query select * from deduction_answer(v_row, p_card_no, p_dynamic_code_hash, p_amount_fen, p_now);
end;
$$;
--> statement-breakpoint
create function decide_deductions(p_swipes jsonb) returns table (
  swipe integer,
  outcome text,
  deduction_id uuid,
  deduction_no text,
  decision text,
  decline_reason text,
  status text,
  card_no text,
  error text
)
language plpgsql
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  v_fresh integer[];
  v_key bigint;
  v_swipe record;
  v_answer record;
  v_state text;
  v_message text;
begin
  -- 1. The nonces, in one order. Of two swipes of the batch with one nonce, the first spends it.
  with spent as (
    insert into gateway_nonces as n (client_id, nonce, expires_at)
      select s.client_id, s.nonce, s.nonce_expires_at from deduction_swipes(p_swipes) s
      order by s.client_id, s.nonce
      on conflict do nothing
      returning n.client_id, n.nonce
  )
  select coalesce(array_agg(f.first_use), '{}') into v_fresh
    from (select min(s.swipe) as first_use
          from deduction_swipes(p_swipes) s join spent p on p.client_id = s.client_id and p.nonce = s.nonce
          group by s.client_id, s.nonce) f;

  -- 2. The dynamic codes' rows, in one order: a code is spent once, even by two swipes in two batches.
  perform c.code_hash from membership_codes c
    where c.code_hash in (select s.dynamic_code_hash from deduction_swipes(p_swipes) s
                          where s.swipe = any(v_fresh) and s.dynamic_code_hash is not null)
    order by c.code_hash
    for update of c;

  -- 3. The cards (the one a code stands for, too) and the txn_nos, in key order. Swipes of one card are
  -- decided in single file, so the daily sum is exact. Advisory locks rather than FOR UPDATE on the binding
  -- row: a row lock writes the row (and a WAL record) on every swipe.
  for v_key in
    select k from (
      select hashtextextended(s.school_id::text || '/' || coalesce(s.card_no, c.card_no), 7355609) as k
        from deduction_swipes(p_swipes) s
        left join membership_codes c on c.code_hash = s.dynamic_code_hash and c.school_id = s.school_id
        where s.swipe = any(v_fresh) and coalesce(s.card_no, c.card_no) is not null
      union
      select hashtextextended(s.school_id::text || '/' || s.txn_no, 7355610)
        from deduction_swipes(p_swipes) s
        where s.swipe = any(v_fresh)
    ) keys
    order by k
  loop
    perform pg_advisory_xact_lock(v_key);
  end loop;

  -- 4. Each swipe in the order it came, in its own subtransaction.
  for v_swipe in select * from deduction_swipes(p_swipes) s order by s.swipe loop
    if not (v_swipe.swipe = any(v_fresh)) then
      return query select v_swipe.swipe, 'REPLAY'::text, null::uuid, null::text, null::text, null::text,
        null::text, null::text, null::text;
      continue;
    end if;
    begin
      select * into v_answer from decide_swipe(v_swipe.client_id, v_swipe.school_id, v_swipe.txn_no,
        v_swipe.card_no, v_swipe.dynamic_code_hash, v_swipe.amount_fen, v_swipe.terminal_id, v_swipe.occurred_at,
        v_swipe.deduction_no, v_swipe.decided_at);
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
      return query select v_swipe.swipe, 'ERROR'::text, null::uuid, null::text, null::text, null::text,
        null::text, null::text, v_state || ' ' || v_message;
      continue;
    end;
    return query select v_swipe.swipe, v_answer.outcome, v_answer.deduction_id, v_answer.deduction_no,
      v_answer.decision, v_answer.decline_reason, v_answer.status, v_answer.card_no, null::text;
  end loop;
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
as $$
#variable_conflict use_column
declare
  v_answer record;
begin
  select * into v_answer from decide_deductions(jsonb_build_array(jsonb_build_object(
    'client_id', p_client_id, 'nonce', p_nonce, 'nonce_expires_at', p_nonce_expires_at, 'school_id', p_school_id,
    'txn_no', p_txn_no, 'card_no', p_card_no, 'dynamic_code_hash', p_dynamic_code_hash,
    'amount_fen', p_amount_fen, 'terminal_id', p_terminal_id, 'occurred_at', p_occurred_at,
    'deduction_no', p_deduction_no, 'decided_at', p_now)));
  if v_answer.outcome = 'ERROR' then
    raise exception 'decide_deduction: %', v_answer.error;
  end if;
  return query select v_answer.outcome, v_answer.deduction_id, v_answer.deduction_no, v_answer.decision,
    v_answer.decline_reason, v_answer.status, v_answer.card_no;
end;
$$;
