-- audit_log is append-only (DESIGN §7.0): history of who changed what at a school must not be rewritable,
-- not even by a bug in our own code. Rows are inserted by domain/audit/audit.ts `recordAudit`; any UPDATE,
-- DELETE or TRUNCATE fails with SQLSTATE 42501 (insufficient_privilege).
create or replace function audit_log_refuse_change() returns trigger
language plpgsql
as $$
begin
  raise exception 'audit_log is append-only: % refused', tg_op using errcode = '42501';
end;
$$;
--> statement-breakpoint
create trigger audit_log_no_update_or_delete
  before update or delete on audit_log
  for each row execute function audit_log_refuse_change();
--> statement-breakpoint
create trigger audit_log_no_truncate
  before truncate on audit_log
  for each statement execute function audit_log_refuse_change();
