-- Issue 15: a terminal order's school and terminal checked by one foreign key instead of two. Each foreign key
-- check of an insert locks the referenced row (SELECT … FOR KEY SHARE): every order of a school locked that
-- school's one row, and when orders of one school commit side by side the lock becomes a MultiXact (the
-- row's locker list rewritten and WAL-logged by each new locker). The order's (terminal_ref, school_id)
-- now references the terminal's (id, school_id): the school exists because the terminal's own foreign key
-- says so, and a terminal with orders can neither go nor move to another school. Stronger than the two
-- keys it replaces (the order's school is its terminal's school), one locked row fewer per order.
CREATE UNIQUE INDEX "terminals_id_school_key" ON "terminals" USING btree ("id","school_id");--> statement-breakpoint
ALTER TABLE "terminal_orders" ADD CONSTRAINT "terminal_orders_terminal_school_fk" FOREIGN KEY ("terminal_ref","school_id") REFERENCES "public"."terminals"("id","school_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_orders" DROP CONSTRAINT "terminal_orders_school_id_schools_id_fk";--> statement-breakpoint
ALTER TABLE "terminal_orders" DROP CONSTRAINT "terminal_orders_terminal_ref_terminals_id_fk";
--> statement-breakpoint
-- The checks of terminal_orders (six) and terminal_payments (two), each now a call of a PL/pgSQL function that
-- holds the same predicate, as migration 0029 did for deductions: PostgreSQL reads a table's check expressions
-- afresh for every INSERT or UPDATE statement (the stored trees parsed from text, then constant-folded): the
-- create's statement (order and payment inserted) and the paying one (both updated) read 16 per order, and
-- each batch of callback acknowledgements 6, written out with their lists of values. A function
-- call is a small tree, and PL/pgSQL keeps its expression parsed for the session. Measured with
-- scripts/bench/terminal-order-writes.ts (the order's statements through the API's functions, PostgreSQL's
-- backends under callgrind, this migration against both parts undone, each twice): 2.790 and 2.731 → 2.358
-- and 2.378 million instructions per order (−14 %; the foreign key above is within the noise of that).
--
-- Same names, same answers: each function returns the predicate the check had (not STRICT, so a NULL
-- argument gives what the expression gave: a check passes on NULL), and a row that breaks one is refused
-- with that check's name (23514), as before. The lists of values are written here, not in schema.ts:
-- whoever adds a status replaces the function in a migration (test/integration/foundation/schema.test.ts
-- holds that every value of schema.ts's constants is accepted). One ALTER per table, so that each table is
-- read once to validate its checks, under the migration's lock.
create function terminal_orders_amount_positive(p_amount_fen integer) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_amount_fen > 0;
end;
$$;
--> statement-breakpoint
create function terminal_orders_status_valid(p_status text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_status in ('CREATED', 'PAID', 'CLOSED');
end;
$$;
--> statement-breakpoint
create function terminal_orders_dispense_valid(p_dispense_result text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_dispense_result is null or p_dispense_result in ('OK', 'PARTIAL', 'FAILED');
end;
$$;
--> statement-breakpoint
create function terminal_orders_callback_valid(p_callback_status text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_callback_status is null or p_callback_status in ('PENDING', 'ACKNOWLEDGED', 'GAVE_UP');
end;
$$;
--> statement-breakpoint
create function terminal_orders_settle_valid(p_settle_status text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_settle_status is null or p_settle_status in ('PENDING', 'SENT', 'SUCCEEDED', 'FAILED', 'NOT_NEEDED');
end;
$$;
--> statement-breakpoint
create function terminal_orders_royalty_within_amount(p_royalty_fen integer, p_amount_fen integer) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_royalty_fen is null or (p_royalty_fen > 0 and p_royalty_fen <= p_amount_fen);
end;
$$;
--> statement-breakpoint
create function terminal_payments_channel_valid(p_channel text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_channel in ('QR', 'MINIAPP');
end;
$$;
--> statement-breakpoint
create function terminal_payments_status_valid(p_status text) returns boolean
language plpgsql immutable parallel safe
as $$
begin
  return p_status in ('CREATED', 'PAID', 'CLOSED');
end;
$$;
--> statement-breakpoint
ALTER TABLE "terminal_orders"
  DROP CONSTRAINT "terminal_orders_amount_positive",
  DROP CONSTRAINT "terminal_orders_status_valid",
  DROP CONSTRAINT "terminal_orders_dispense_valid",
  DROP CONSTRAINT "terminal_orders_callback_valid",
  DROP CONSTRAINT "terminal_orders_settle_valid",
  DROP CONSTRAINT "terminal_orders_royalty_within_amount",
  ADD CONSTRAINT "terminal_orders_amount_positive" CHECK (terminal_orders_amount_positive(amount_fen)),
  ADD CONSTRAINT "terminal_orders_status_valid" CHECK (terminal_orders_status_valid(status)),
  ADD CONSTRAINT "terminal_orders_dispense_valid" CHECK (terminal_orders_dispense_valid(dispense_result)),
  ADD CONSTRAINT "terminal_orders_callback_valid" CHECK (terminal_orders_callback_valid(callback_status)),
  ADD CONSTRAINT "terminal_orders_settle_valid" CHECK (terminal_orders_settle_valid(settle_status)),
  ADD CONSTRAINT "terminal_orders_royalty_within_amount" CHECK (terminal_orders_royalty_within_amount(royalty_fen, amount_fen));
--> statement-breakpoint
ALTER TABLE "terminal_payments"
  DROP CONSTRAINT "terminal_payments_channel_valid",
  DROP CONSTRAINT "terminal_payments_status_valid",
  ADD CONSTRAINT "terminal_payments_channel_valid" CHECK (terminal_payments_channel_valid(channel)),
  ADD CONSTRAINT "terminal_payments_status_valid" CHECK (terminal_payments_status_valid(status));
