ALTER TABLE "deduction_attempts" ADD COLUMN "out_trade_no" text;--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "out_trade_no" text;--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "charge_state" text;--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "awaiting_buyer_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "reversal_requested_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "deductions_out_trade_no_key" ON "deductions" USING btree ("out_trade_no");--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_charge_state_valid" CHECK (charge_state is null or charge_state in ('UNKNOWN', 'AWAITING_BUYER'));