DROP INDEX "deductions_deduction_no_key";--> statement-breakpoint
DROP INDEX "deductions_payer_open_idx";--> statement-breakpoint
CREATE INDEX "deductions_payer_debts_idx" ON "deductions" USING btree ("payer_user_id") WHERE status in ('RETRYING', 'ARREARS');