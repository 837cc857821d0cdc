DROP INDEX "campus_code_payments_payment_no_key";--> statement-breakpoint
DROP INDEX "campus_code_payments_school_status_idx";--> statement-breakpoint
CREATE INDEX "campus_code_payments_exceptions_idx" ON "campus_code_payments" USING btree ("school_id","status","created_at") WHERE status in ('FAILED', 'EXPIRED');