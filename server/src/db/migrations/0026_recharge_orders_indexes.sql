DROP INDEX "recharge_orders_binding_idx";--> statement-breakpoint
DROP INDEX "recharge_orders_school_open_idx";--> statement-breakpoint
DROP INDEX "recharge_orders_open_idx";--> statement-breakpoint
CREATE INDEX "recharge_orders_open_idx" ON "recharge_orders" USING btree ("status","school_id","created_at") WHERE status in ('CREATED', 'PAID', 'CREDIT_FAILED');