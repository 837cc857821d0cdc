-- Issue 18 §1: the six checks of deductions, each now a call of a PL/pgSQL function that holds the same
-- predicate. PostgreSQL reads a table's check constraints afresh for every INSERT or UPDATE statement (their
-- stored expression trees, parsed from text, then constant folding), and every swipe inserts its deduction
-- by its own statement (decide_swipe): written out, with their lists of values, the six were a quarter of
-- PostgreSQL's instructions per swipe (callgrind, batches of 20: ExecConstraints 26 %, reading the trees
-- alone 20 %). A function call is a small tree, and PL/pgSQL keeps its expression parsed for the session.
-- Measured the same way (scripts/bench/decision-cpu.ts's swipes, PostgreSQL single-user under callgrind):
-- 1.686 → 1.372 million instructions per swipe (−18.6 %); ExecConstraints 26 % → 9 % of them.
--
-- Same names, same answers: each function returns the predicate the check had (not STRICT, so a NULL
-- argument gives what the expression gave: a check passes on NULL), and a row that breaks one is refused
-- with that check's name (23514), as before. The lists of values are written here, not in schema.ts:
-- whoever adds a status, decision, decline reason or charge state replaces the function in a migration
-- (test/integration/foundation/schema.test.ts holds that every value of schema.ts's constants is accepted).
-- One ALTER, so that the table is read once to validate all six, under the migration's lock.
create function deductions_amount_positive(p_amount_fen integer) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_amount_fen is null or p_amount_fen > 0;
end;
$$;
--> statement-breakpoint
create function deductions_charge_state_valid(p_charge_state text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_charge_state is null or p_charge_state in ('UNKNOWN', 'AWAITING_BUYER');
end;
$$;
--> statement-breakpoint
create function deductions_status_valid(p_status text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_status in ('PENDING', 'COLLECTED', 'RETRYING', 'ARREARS', 'SETTLED', 'REVERSED', 'DECLINED', 'WAIVED');
end;
$$;
--> statement-breakpoint
create function deductions_decision_valid(p_decision text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_decision in ('APPROVED', 'DECLINED');
end;
$$;
--> statement-breakpoint
create function deductions_decline_reason_valid(p_decision text, p_decline_reason text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return (p_decision = 'APPROVED' and p_decline_reason is null)
    or (p_decision = 'DECLINED' and p_decline_reason is not null and p_decline_reason in ('CODE_UNKNOWN',
      'CODE_USED', 'CODE_EXPIRED', 'SCHOOL_SUSPENDED', 'WITHHOLDING_DISABLED', 'OUTSIDE_TIME_WINDOW', 'NOT_BOUND',
      'CARD_LOST', 'NOT_SIGNED', 'IN_ARREARS', 'OVER_TXN_LIMIT', 'OVER_DAILY_LIMIT', 'REVERSED'));
end;
$$;
--> statement-breakpoint
create function deductions_tombstone_shape(p_amount_fen integer, p_card_no text, p_dynamic_code_hash text,
  p_decline_reason text, p_status text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return (p_amount_fen is not null and (p_card_no is not null or p_dynamic_code_hash is not null))
    or (p_decline_reason = 'REVERSED' and p_status = 'REVERSED');
end;
$$;
--> statement-breakpoint
ALTER TABLE "deductions"
  DROP CONSTRAINT "deductions_charge_state_valid",
  DROP CONSTRAINT "deductions_amount_positive",
  DROP CONSTRAINT "deductions_status_valid",
  DROP CONSTRAINT "deductions_decision_valid",
  DROP CONSTRAINT "deductions_decline_reason_valid",
  DROP CONSTRAINT "deductions_tombstone_shape",
  ADD CONSTRAINT "deductions_charge_state_valid" CHECK (deductions_charge_state_valid(charge_state)),
  ADD CONSTRAINT "deductions_amount_positive" CHECK (deductions_amount_positive(amount_fen)),
  ADD CONSTRAINT "deductions_status_valid" CHECK (deductions_status_valid(status)),
  ADD CONSTRAINT "deductions_decision_valid" CHECK (deductions_decision_valid(decision)),
  ADD CONSTRAINT "deductions_decline_reason_valid" CHECK (deductions_decline_reason_valid(decision, decline_reason)),
  ADD CONSTRAINT "deductions_tombstone_shape" CHECK (deductions_tombstone_shape(amount_fen, card_no, dynamic_code_hash, decline_reason, status));
