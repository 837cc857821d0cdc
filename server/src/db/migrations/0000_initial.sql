CREATE TABLE "bindings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"card_no" text NOT NULL,
	"holder_name" text NOT NULL,
	"identity" text,
	"relation" text NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"is_withholding_payer" boolean DEFAULT false NOT NULL,
	"vendor_bind_password_enc" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"unbound_at" timestamp with time zone,
	CONSTRAINT "bindings_status_valid" CHECK (status in ('ACTIVE', 'LOST', 'UNBOUND')),
	CONSTRAINT "bindings_relation_valid" CHECK (relation in ('SELF', 'PARENT'))
);
--> statement-breakpoint
CREATE TABLE "campus_code_payments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"out_trade_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"txn_no" text NOT NULL,
	"code_hash" text NOT NULL,
	"user_id" uuid,
	"amount_fen" integer NOT NULL,
	"terminal_id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"alipay_trade_no" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campus_code_payments_amount_positive" CHECK ("campus_code_payments"."amount_fen" > 0),
	CONSTRAINT "campus_code_payments_status_valid" CHECK (status in ('PENDING', 'PAID', 'FAILED', 'EXPIRED', 'DUPLICATE'))
);
--> statement-breakpoint
CREATE TABLE "deduction_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"deduction_id" uuid NOT NULL,
	"attempt_no" integer NOT NULL,
	"outcome" text NOT NULL,
	"alipay_code" text,
	"alipay_sub_code" text,
	"out_trade_no" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deductions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deduction_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"txn_no" text NOT NULL,
	"card_no" text,
	"amount_fen" integer,
	"terminal_id" text,
	"occurred_at" timestamp with time zone,
	"gateway_client_id" text,
	"payer_user_id" uuid,
	"agreement_id" uuid,
	"decision" text NOT NULL,
	"decline_reason" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error_code" text,
	"alipay_trade_no" text,
	"collected_at" timestamp with time zone,
	"reversed_at" timestamp with time zone,
	"refund_out_request_no" text,
	"refunded_at" timestamp with time zone,
	"repayment_id" uuid,
	"settled_at" timestamp with time zone,
	"out_trade_no" text,
	"charge_state" text,
	"awaiting_buyer_since" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"reversal_requested_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deductions_charge_state_valid" CHECK (charge_state is null or charge_state in ('UNKNOWN', 'AWAITING_BUYER')),
	CONSTRAINT "deductions_amount_positive" CHECK ("deductions"."amount_fen" is null or "deductions"."amount_fen" > 0),
	CONSTRAINT "deductions_status_valid" CHECK (status in ('PENDING', 'COLLECTED', 'RETRYING', 'ARREARS', 'SETTLED', 'REVERSED', 'DECLINED')),
	CONSTRAINT "deductions_decision_valid" CHECK (decision in ('APPROVED', 'DECLINED')),
	CONSTRAINT "deductions_decline_reason_valid" CHECK ((decision = 'APPROVED' and decline_reason is null) or (decision = 'DECLINED' and decline_reason is not null and decline_reason in ('NOT_BOUND', 'NOT_SIGNED', 'CARD_LOST', 'IN_ARREARS', 'OVER_TXN_LIMIT', 'OVER_DAILY_LIMIT', 'WITHHOLDING_DISABLED', 'REVERSED'))),
	CONSTRAINT "deductions_tombstone_shape" CHECK ((card_no is not null and amount_fen is not null) or (decline_reason = 'REVERSED' and status = 'REVERSED'))
);
--> statement-breakpoint
CREATE TABLE "gateway_clients" (
	"id" text PRIMARY KEY NOT NULL,
	"school_id" uuid NOT NULL,
	"name" text NOT NULL,
	"secret_enc" text NOT NULL,
	"previous_secret_enc" text,
	"previous_secret_valid_until" timestamp with time zone,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"rotated_at" timestamp with time zone,
	CONSTRAINT "gateway_clients_status_valid" CHECK (status in ('ACTIVE', 'REVOKED'))
);
--> statement-breakpoint
CREATE TABLE "gateway_nonces" (
	"client_id" text NOT NULL,
	"nonce" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "gateway_nonces_client_id_nonce_pk" PRIMARY KEY("client_id","nonce")
);
--> statement-breakpoint
CREATE TABLE "notify_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notify_type" text,
	"notify_id" text,
	"out_trade_no" text,
	"app_id" text,
	"is_verified" boolean NOT NULL,
	"outcome" text NOT NULL,
	"detail" text,
	"body" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recharge_orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"out_trade_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"binding_id" uuid NOT NULL,
	"card_no" text NOT NULL,
	"amount_fen" integer NOT NULL,
	"status" text DEFAULT 'CREATED' NOT NULL,
	"alipay_trade_no" text,
	"buyer_id" text,
	"credit_attempts" integer DEFAULT 0 NOT NULL,
	"next_credit_at" timestamp with time zone,
	"last_error" text,
	"expires_at" timestamp with time zone NOT NULL,
	"paid_at" timestamp with time zone,
	"credited_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"refunded_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recharge_orders_amount_positive" CHECK ("recharge_orders"."amount_fen" > 0),
	CONSTRAINT "recharge_orders_status_valid" CHECK (status in ('CREATED', 'PAID', 'CREDITED', 'CREDIT_FAILED', 'REFUNDED', 'CLOSED'))
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"out_trade_no" text NOT NULL,
	"out_request_no" text NOT NULL,
	"amount_fen" integer NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_amount_positive" CHECK ("refunds"."amount_fen" > 0),
	CONSTRAINT "refunds_status_valid" CHECK (status in ('PENDING', 'SUCCEEDED', 'FAILED')),
	CONSTRAINT "refunds_kind_valid" CHECK (kind in ('DEDUCTION_REVERSAL', 'RECHARGE_REFUND'))
);
--> statement-breakpoint
CREATE TABLE "repayments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"out_trade_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"amount_fen" integer NOT NULL,
	"status" text DEFAULT 'CREATED' NOT NULL,
	"alipay_trade_no" text,
	"expires_at" timestamp with time zone NOT NULL,
	"paid_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "repayments_amount_positive" CHECK ("repayments"."amount_fen" > 0),
	CONSTRAINT "repayments_status_valid" CHECK (status in ('CREATED', 'PAID', 'CLOSED'))
);
--> statement-breakpoint
CREATE TABLE "roster_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"name" text NOT NULL,
	"student_no" text,
	"card_no" text NOT NULL,
	"id_number_hash" text,
	"id_number_enc" text,
	"phone_hash" text,
	"phone_enc" text,
	"is_student" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "school_admins" (
	"school_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "school_admins_school_id_user_id_pk" PRIMARY KEY("school_id","user_id"),
	CONSTRAINT "school_admins_role_valid" CHECK (role in ('OWNER', 'OPERATOR', 'VIEWER'))
);
--> statement-breakpoint
CREATE TABLE "schools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"alipay_app_auth_token_enc" text,
	"alipay_auth_app_id" text,
	"alipay_seller_id" text,
	"cardsys_endpoint" text NOT NULL,
	"cardsys_username" text NOT NULL,
	"cardsys_password_enc" text NOT NULL,
	"recharge_min_fen" integer DEFAULT 100 NOT NULL,
	"recharge_max_fen" integer DEFAULT 100000 NOT NULL,
	"withholding_enabled" boolean DEFAULT true NOT NULL,
	"txn_limit_fen" integer DEFAULT 5000 NOT NULL,
	"daily_limit_fen" integer DEFAULT 20000 NOT NULL,
	"retry_schedule_seconds" integer[] DEFAULT '{60,300,1800,7200,21600,86400,86400,86400,86400,86400,86400,86400,86400}'::integer[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schools_code_format" CHECK ("schools"."code" ~ '^[0-9]{10}$'),
	CONSTRAINT "schools_status_valid" CHECK (status in ('ACTIVE', 'DISABLED')),
	CONSTRAINT "schools_recharge_range" CHECK ("schools"."recharge_min_fen" > 0 and "schools"."recharge_max_fen" >= "schools"."recharge_min_fen"),
	CONSTRAINT "schools_limits_positive" CHECK ("schools"."txn_limit_fen" > 0 and "schools"."daily_limit_fen" >= "schools"."txn_limit_fen")
);
--> statement-breakpoint
CREATE TABLE "terminal_orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"out_trade_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"terminal_id" text NOT NULL,
	"user_id" uuid,
	"amount_fen" integer NOT NULL,
	"subject" text NOT NULL,
	"status" text DEFAULT 'CREATED' NOT NULL,
	"alipay_trade_no" text,
	"royalty" jsonb,
	"paid_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "terminal_orders_amount_positive" CHECK ("terminal_orders"."amount_fen" > 0),
	CONSTRAINT "terminal_orders_status_valid" CHECK (status in ('CREATED', 'PAID', 'CLOSED', 'REFUNDED'))
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"alipay_user_id" text,
	"alipay_open_id" text,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_has_alipay_identity" CHECK ("users"."alipay_user_id" is not null or "users"."alipay_open_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "withholding_agreements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"binding_id" uuid,
	"external_agreement_no" text NOT NULL,
	"agreement_no" text,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"personal_product_code" text DEFAULT 'GENERAL_WITHHOLDING_P' NOT NULL,
	"sign_scene" text NOT NULL,
	"signed_at" timestamp with time zone,
	"valid_until" timestamp with time zone,
	"unsigned_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "withholding_agreements_status_valid" CHECK (status in ('PENDING', 'ACTIVE', 'UNSIGNED', 'FAILED'))
);
--> statement-breakpoint
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campus_code_payments" ADD CONSTRAINT "campus_code_payments_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campus_code_payments" ADD CONSTRAINT "campus_code_payments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deduction_attempts" ADD CONSTRAINT "deduction_attempts_deduction_id_deductions_id_fk" FOREIGN KEY ("deduction_id") REFERENCES "public"."deductions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_repayment_id_repayments_id_fk" FOREIGN KEY ("repayment_id") REFERENCES "public"."repayments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway_clients" ADD CONSTRAINT "gateway_clients_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recharge_orders" ADD CONSTRAINT "recharge_orders_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recharge_orders" ADD CONSTRAINT "recharge_orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recharge_orders" ADD CONSTRAINT "recharge_orders_binding_id_bindings_id_fk" FOREIGN KEY ("binding_id") REFERENCES "public"."bindings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repayments" ADD CONSTRAINT "repayments_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repayments" ADD CONSTRAINT "repayments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "roster_entries" ADD CONSTRAINT "roster_entries_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "school_admins" ADD CONSTRAINT "school_admins_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "school_admins" ADD CONSTRAINT "school_admins_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_orders" ADD CONSTRAINT "terminal_orders_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_orders" ADD CONSTRAINT "terminal_orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "withholding_agreements" ADD CONSTRAINT "withholding_agreements_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "withholding_agreements" ADD CONSTRAINT "withholding_agreements_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "withholding_agreements" ADD CONSTRAINT "withholding_agreements_binding_id_bindings_id_fk" FOREIGN KEY ("binding_id") REFERENCES "public"."bindings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bindings_user_card_live_key" ON "bindings" USING btree ("user_id","school_id","card_no") WHERE status <> 'UNBOUND';--> statement-breakpoint
CREATE UNIQUE INDEX "bindings_one_withholding_payer_per_card" ON "bindings" USING btree ("school_id","card_no") WHERE is_withholding_payer and status <> 'UNBOUND';--> statement-breakpoint
CREATE INDEX "bindings_user_idx" ON "bindings" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_out_trade_no_key" ON "campus_code_payments" USING btree ("out_trade_no");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_school_txn_key" ON "campus_code_payments" USING btree ("school_id","txn_no");--> statement-breakpoint
CREATE UNIQUE INDEX "campus_code_payments_code_hash_key" ON "campus_code_payments" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "deduction_attempts_deduction_idx" ON "deduction_attempts" USING btree ("deduction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deductions_school_txn_key" ON "deductions" USING btree ("school_id","txn_no");--> statement-breakpoint
CREATE UNIQUE INDEX "deductions_out_trade_no_key" ON "deductions" USING btree ("out_trade_no");--> statement-breakpoint
CREATE INDEX "deductions_payer_debts_idx" ON "deductions" USING btree ("payer_user_id") WHERE status in ('RETRYING', 'ARREARS');--> statement-breakpoint
CREATE INDEX "deductions_card_day_idx" ON "deductions" USING btree ("school_id","card_no","created_at");--> statement-breakpoint
CREATE INDEX "deductions_due_idx" ON "deductions" USING btree ("next_attempt_at") WHERE status in ('PENDING', 'RETRYING');--> statement-breakpoint
CREATE INDEX "gateway_nonces_expires_idx" ON "gateway_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "notify_log_out_trade_no_idx" ON "notify_log" USING btree ("out_trade_no");--> statement-breakpoint
CREATE INDEX "notify_log_received_idx" ON "notify_log" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "recharge_orders_out_trade_no_key" ON "recharge_orders" USING btree ("out_trade_no");--> statement-breakpoint
CREATE INDEX "recharge_orders_binding_idx" ON "recharge_orders" USING btree ("binding_id","created_at");--> statement-breakpoint
CREATE INDEX "recharge_orders_open_idx" ON "recharge_orders" USING btree ("status","created_at") WHERE status in ('CREATED', 'PAID');--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_trade_request_key" ON "refunds" USING btree ("out_trade_no","out_request_no");--> statement-breakpoint
CREATE UNIQUE INDEX "repayments_out_trade_no_key" ON "repayments" USING btree ("out_trade_no");--> statement-breakpoint
CREATE INDEX "repayments_user_idx" ON "repayments" USING btree ("user_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "roster_entries_school_card_key" ON "roster_entries" USING btree ("school_id","card_no");--> statement-breakpoint
CREATE INDEX "roster_entries_id_number_hash_idx" ON "roster_entries" USING btree ("school_id","id_number_hash");--> statement-breakpoint
CREATE INDEX "roster_entries_phone_hash_idx" ON "roster_entries" USING btree ("school_id","phone_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "schools_code_key" ON "schools" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_orders_out_trade_no_key" ON "terminal_orders" USING btree ("out_trade_no");--> statement-breakpoint
CREATE UNIQUE INDEX "users_alipay_user_id_key" ON "users" USING btree ("alipay_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_alipay_open_id_key" ON "users" USING btree ("alipay_open_id");--> statement-breakpoint
CREATE UNIQUE INDEX "withholding_agreements_external_no_key" ON "withholding_agreements" USING btree ("external_agreement_no");--> statement-breakpoint
CREATE UNIQUE INDEX "withholding_agreements_agreement_no_key" ON "withholding_agreements" USING btree ("agreement_no");--> statement-breakpoint
CREATE UNIQUE INDEX "withholding_agreements_one_active_per_user" ON "withholding_agreements" USING btree ("user_id","school_id") WHERE status = 'ACTIVE';