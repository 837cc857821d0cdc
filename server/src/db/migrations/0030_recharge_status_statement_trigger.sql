-- Issue 18 §2: a recharge's two status changes on the crediting path (PAID, CREDITED) are written in batches,
-- one UPDATE for the notifications or credits of a moment (db/repos/recharge/payment-batches.ts,
-- credit-batches.ts). The per-row trigger of 0015 ran a plpgsql call and an INSERT per changed row; this
-- statement-level trigger writes the same order_status_changes rows (same columns, same values, one per
-- order whose status changed) with one INSERT per statement. Transition tables allow no column list
-- (`UPDATE OF status`), so it fires on every UPDATE of the table (leases included) and keeps the rows whose
-- status changed, joining the old and new versions by id (never updated). A statement changes a row at most
-- once, so an order's changes keep their order. Inserts keep their per-row trigger (recharge_orders_status_created).
create or replace function record_recharge_status_changes() returns trigger language plpgsql as $$
begin
  insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen, changed_at, txid)
  select n.school_id, 'RECHARGE', n.out_trade_no, o.status, n.status, n.amount_fen,
         order_change_time(o.updated_at, n.updated_at), pg_current_xact_id()::text::bigint
    from changed_new n join changed_old o on o.id = n.id
   where o.status is distinct from n.status;
  return null;
end;
$$;
--> statement-breakpoint
drop trigger recharge_orders_status_changed on recharge_orders;
--> statement-breakpoint
create trigger recharge_orders_status_changed after update on recharge_orders
  referencing old table as changed_old new table as changed_new
  for each statement execute function record_recharge_status_changes();
