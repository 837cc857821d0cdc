CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" bigint
);
--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "retries_used" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recharge_orders" ADD COLUMN "credit_unknown_since" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "rate_limits_expire_idx" ON "rate_limits" USING btree ("expire");--> statement-breakpoint
-- Deductions still being collected keep the slots their trade.pay calls have used so far.
UPDATE "deductions" SET "retries_used" = "attempts" WHERE "status" IN ('PENDING', 'RETRYING');
