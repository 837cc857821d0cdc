-- Order timelines and the dashboard's daily statistics (issue 13) read every status change of an order from
-- order_status_changes. Triggers write it in the transaction of the change, so no code path (ours, a job's,
-- a later issue's) can forget it. A swipe's insert writes nothing (its decision is the deduction row, and the
-- decision path is the hottest of the platform); an update that leaves the status alone does not fire.
-- The change's time is the row's updated_at when the statement moved it (our clock), else now().
-- txid (the writing transaction's xid8) lets the statistics fold read each committed change exactly once.
create or replace function order_change_time(p_old_updated timestamptz, p_new_updated timestamptz)
returns timestamptz language sql stable as $$
  select case when p_new_updated is distinct from p_old_updated and p_new_updated is not null
              then p_new_updated else now() end
$$;
--> statement-breakpoint
create or replace function record_recharge_status() returns trigger language plpgsql as $$
begin
  insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen, changed_at, txid)
  values (new.school_id, 'RECHARGE', new.out_trade_no, case when tg_op = 'UPDATE' then old.status end, new.status,
          new.amount_fen,
          case when tg_op = 'UPDATE' then order_change_time(old.updated_at, new.updated_at) else new.created_at end,
          pg_current_xact_id()::text::bigint);
  return null;
end;
$$;
--> statement-breakpoint
create or replace function record_repayment_status() returns trigger language plpgsql as $$
begin
  insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen, changed_at, txid)
  values (new.school_id, 'REPAYMENT', new.out_trade_no, case when tg_op = 'UPDATE' then old.status end, new.status,
          new.amount_fen,
          case when tg_op = 'UPDATE' then order_change_time(old.updated_at, new.updated_at) else new.created_at end,
          pg_current_xact_id()::text::bigint);
  return null;
end;
$$;
--> statement-breakpoint
create or replace function record_refund_status() returns trigger language plpgsql as $$
begin
  insert into order_status_changes (school_id, order_kind, order_no, parent_no, from_status, to_status, amount_fen, changed_at, txid)
  values (new.school_id, 'REFUND', new.out_request_no, new.out_trade_no, case when tg_op = 'UPDATE' then old.status end,
          new.status, new.amount_fen,
          case when tg_op = 'UPDATE' then order_change_time(old.updated_at, new.updated_at) else new.created_at end,
          pg_current_xact_id()::text::bigint);
  return null;
end;
$$;
--> statement-breakpoint
create or replace function record_deduction_status() returns trigger language plpgsql as $$
begin
  insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen, changed_at, txid)
  values (new.school_id, 'DEDUCTION', new.deduction_no, old.status, new.status, new.amount_fen,
          order_change_time(old.updated_at, new.updated_at), pg_current_xact_id()::text::bigint);
  return null;
end;
$$;
--> statement-breakpoint
create trigger recharge_orders_status_created after insert on recharge_orders
  for each row execute function record_recharge_status();
--> statement-breakpoint
create trigger recharge_orders_status_changed after update of status on recharge_orders
  for each row when (old.status is distinct from new.status) execute function record_recharge_status();
--> statement-breakpoint
create trigger repayments_status_created after insert on repayments
  for each row execute function record_repayment_status();
--> statement-breakpoint
create trigger repayments_status_changed after update of status on repayments
  for each row when (old.status is distinct from new.status) execute function record_repayment_status();
--> statement-breakpoint
create trigger refunds_status_created after insert on refunds
  for each row execute function record_refund_status();
--> statement-breakpoint
create trigger refunds_status_changed after update of status on refunds
  for each row when (old.status is distinct from new.status) execute function record_refund_status();
--> statement-breakpoint
create trigger deductions_status_changed after update of status on deductions
  for each row when (old.status is distinct from new.status) execute function record_deduction_status();
