CREATE TABLE "bill_rows" (
	"school_id" uuid NOT NULL,
	"bill_date" text NOT NULL,
	"line_no" integer NOT NULL,
	"trade_no" text NOT NULL,
	"out_trade_no" text NOT NULL,
	"is_refund" boolean NOT NULL,
	"refund_request_no" text,
	"subject" text,
	"amount_fen" integer NOT NULL,
	"received_fen" integer NOT NULL,
	"fee_fen" integer NOT NULL,
	"royalty_fen" integer NOT NULL,
	"finished_at" timestamp with time zone,
	"terminal_id" text,
	"memo" text,
	CONSTRAINT "bill_rows_school_id_bill_date_line_no_pk" PRIMARY KEY("school_id","bill_date","line_no")
);
--> statement-breakpoint
CREATE TABLE "reconciliation_days" (
	"school_id" uuid NOT NULL,
	"bill_date" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"bill_file" text,
	"bill_rows" integer DEFAULT 0 NOT NULL,
	"totals" jsonb,
	"findings" integer DEFAULT 0 NOT NULL,
	"open_findings" integer DEFAULT 0 NOT NULL,
	"balanced" boolean DEFAULT false NOT NULL,
	"matched_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconciliation_days_school_id_bill_date_pk" PRIMARY KEY("school_id","bill_date"),
	CONSTRAINT "reconciliation_days_status_valid" CHECK (status in ('WAITING_FOR_BILL', 'MATCHED', 'FAILED')),
	CONSTRAINT "reconciliation_days_date_format" CHECK ("reconciliation_days"."bill_date" ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
);
--> statement-breakpoint
CREATE TABLE "reconciliation_findings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"bill_date" text NOT NULL,
	"kind" text NOT NULL,
	"ref" text NOT NULL,
	"record_kind" text NOT NULL,
	"out_trade_no" text NOT NULL,
	"trade_no" text,
	"card_no" text,
	"ours_fen" integer,
	"alipay_fen" integer,
	"vendor_fen" integer,
	"action" text NOT NULL,
	"status" text DEFAULT 'OPEN' NOT NULL,
	"resolution" text,
	"resolved_by" text,
	"resolved_at" timestamp with time zone,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconciliation_findings_status_valid" CHECK (status in ('OPEN', 'RESOLVED')),
	CONSTRAINT "reconciliation_findings_resolved_together" CHECK ((status = 'RESOLVED') = (resolution is not null and resolved_at is not null))
);
--> statement-breakpoint
ALTER TABLE "reconciliation_days" ADD CONSTRAINT "reconciliation_days_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_findings" ADD CONSTRAINT "reconciliation_findings_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bill_rows_out_trade_no_idx" ON "bill_rows" USING btree ("school_id","out_trade_no");--> statement-breakpoint
CREATE INDEX "reconciliation_days_due_idx" ON "reconciliation_days" USING btree ("next_attempt_at") WHERE status in ('WAITING_FOR_BILL', 'FAILED');--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_findings_key" ON "reconciliation_findings" USING btree ("school_id","bill_date","kind","ref");--> statement-breakpoint
CREATE INDEX "reconciliation_findings_open_idx" ON "reconciliation_findings" USING btree ("school_id","created_at") WHERE status = 'OPEN';--> statement-breakpoint
CREATE INDEX "recharge_orders_school_paid_idx" ON "recharge_orders" USING btree ("school_id","paid_at");