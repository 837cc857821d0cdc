CREATE TABLE "campus_code_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"attempt_no" integer NOT NULL,
	"outcome" text NOT NULL,
	"alipay_code" text,
	"alipay_sub_code" text,
	"out_trade_no" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campus_code_payments" (
	"id" uuid PRIMARY KEY DEFAULT uuidv7() NOT NULL,
	"payment_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"gateway_client_id" text NOT NULL,
	"txn_no" text NOT NULL,
	"terminal_id" text NOT NULL,
	"code_hash" text NOT NULL,
	"final_data_enc" text,
	"template_id" integer,
	"school_no" text,
	"card_type" text,
	"student_no" text,
	"student_name" text,
	"amount_fen" integer NOT NULL,
	"generated_at" timestamp with time zone,
	"scanned_at" timestamp with time zone NOT NULL,
	"is_late" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"reject_reason" text,
	"out_trade_no" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"retries_used" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"charge_state" text,
	"charge_open_since" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"last_error_code" text,
	"alipay_trade_no" text,
	"paid_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"repayment_id" uuid,
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campus_code_payments_amount_positive" CHECK ("campus_code_payments"."amount_fen" > 0),
	CONSTRAINT "campus_code_payments_status_valid" CHECK (status in ('PENDING', 'RETRYING', 'PAID', 'FAILED', 'SETTLED', 'EXPIRED', 'REJECTED', 'DUPLICATE_CODE')),
	CONSTRAINT "campus_code_payments_charge_state_valid" CHECK (charge_state is null or charge_state in ('UNKNOWN', 'AWAITING_BUYER')),
	CONSTRAINT "campus_code_payments_rejection_has_reason" CHECK ((status = 'REJECTED') = (reject_reason is not null))
);
--> statement-breakpoint
ALTER TABLE "campus_code_attempts" ADD CONSTRAINT "campus_code_attempts_payment_id_campus_code_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."campus_code_payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campus_code_payments" ADD CONSTRAINT "campus_code_payments_repayment_id_repayments_id_fk" FOREIGN KEY ("repayment_id") REFERENCES "public"."repayments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campus_code_attempts_payment_idx" ON "campus_code_attempts" USING btree ("payment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_payment_no_key" ON "campus_code_payments" USING btree ("payment_no");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_out_trade_no_key" ON "campus_code_payments" USING btree ("out_trade_no");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_school_txn_key" ON "campus_code_payments" USING btree ("school_id","txn_no");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_code_owner_key" ON "campus_code_payments" USING btree ("code_hash") WHERE status in ('PENDING', 'RETRYING', 'PAID', 'FAILED', 'SETTLED');--> statement-breakpoint
CREATE INDEX "campus_code_payments_due_idx" ON "campus_code_payments" USING btree ("next_attempt_at") WHERE status in ('PENDING', 'RETRYING');--> statement-breakpoint
CREATE INDEX "campus_code_payments_student_idx" ON "campus_code_payments" USING btree ("school_id","student_no","created_at");--> statement-breakpoint
CREATE INDEX "campus_code_payments_school_status_idx" ON "campus_code_payments" USING btree ("school_id","status","created_at");--> statement-breakpoint
CREATE INDEX "campus_code_payments_late_idx" ON "campus_code_payments" USING btree ("school_id","created_at") WHERE is_late;