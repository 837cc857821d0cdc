CREATE TABLE "order_status_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"school_id" uuid NOT NULL,
	"order_kind" text NOT NULL,
	"order_no" text NOT NULL,
	"parent_no" text,
	"from_status" text,
	"to_status" text NOT NULL,
	"amount_fen" integer,
	"changed_at" timestamp with time zone NOT NULL,
	"txid" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outside_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"order_no" text NOT NULL,
	"system" text NOT NULL,
	"operation" text NOT NULL,
	"outcome" text NOT NULL,
	"code" text,
	"sub_code" text,
	"duration_ms" integer NOT NULL,
	"reference" text,
	"started_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "roster_imports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"requested_by" text NOT NULL,
	"file_name" text NOT NULL,
	"format" text NOT NULL,
	"mark_missing_as_left" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"total_rows" integer,
	"processed_rows" integer DEFAULT 0 NOT NULL,
	"inserted" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"marked_left" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"errors_truncated" boolean DEFAULT false NOT NULL,
	"failure" text,
	"content" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "roster_imports_status_valid" CHECK (status in ('QUEUED', 'RUNNING', 'DONE', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE "school_daily_stats" (
	"school_id" uuid NOT NULL,
	"day" text NOT NULL,
	"metric" text NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	"amount_fen" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "school_daily_stats_school_id_day_metric_pk" PRIMARY KEY("school_id","day","metric")
);
--> statement-breakpoint
CREATE TABLE "stats_watermarks" (
	"source" text PRIMARY KEY NOT NULL,
	"position" text NOT NULL,
	"folded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_status_valid";--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "waived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "waive_reason" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "handled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "handled_by" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "handled_reason" text;--> statement-breakpoint
ALTER TABLE "roster_imports" ADD CONSTRAINT "roster_imports_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "order_status_changes_order_idx" ON "order_status_changes" USING btree ("order_no","id");--> statement-breakpoint
CREATE INDEX "order_status_changes_parent_idx" ON "order_status_changes" USING btree ("parent_no","id") WHERE parent_no is not null;--> statement-breakpoint
CREATE INDEX "order_status_changes_txid_idx" ON "order_status_changes" USING btree ("txid");--> statement-breakpoint
CREATE INDEX "outside_calls_order_idx" ON "outside_calls" USING btree ("order_no","started_at");--> statement-breakpoint
CREATE INDEX "outside_calls_started_idx" ON "outside_calls" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "roster_imports_school_idx" ON "roster_imports" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("school_id","target") WHERE target is not null;--> statement-breakpoint
CREATE INDEX "bindings_school_active_idx" ON "bindings" USING btree ("school_id") WHERE status = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "deductions_school_debts_idx" ON "deductions" USING btree ("school_id","status","created_at") WHERE status in ('RETRYING', 'ARREARS');--> statement-breakpoint
CREATE INDEX "deductions_renumbered_idx" ON "deductions" USING btree ("deduction_no") WHERE out_trade_no is distinct from deduction_no;--> statement-breakpoint
CREATE INDEX "recharge_orders_school_card_idx" ON "recharge_orders" USING btree ("school_id","card_no","created_at");--> statement-breakpoint
CREATE INDEX "recharge_orders_school_created_idx" ON "recharge_orders" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "recharge_orders_school_open_idx" ON "recharge_orders" USING btree ("school_id","status","created_at") WHERE status in ('CREATED', 'PAID', 'CREDIT_FAILED');--> statement-breakpoint
CREATE INDEX "refunds_school_created_idx" ON "refunds" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "refunds_school_open_idx" ON "refunds" USING btree ("school_id","status","created_at") WHERE status <> 'SUCCEEDED';--> statement-breakpoint
CREATE INDEX "repayments_school_created_idx" ON "repayments" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "withholding_agreements_school_open_idx" ON "withholding_agreements" USING btree ("school_id","status","created_at") WHERE status in ('ACTIVE', 'PENDING');--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_status_valid" CHECK (status in ('PENDING', 'COLLECTED', 'RETRYING', 'ARREARS', 'SETTLED', 'REVERSED', 'DECLINED', 'WAIVED'));