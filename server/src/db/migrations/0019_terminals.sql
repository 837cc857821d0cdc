CREATE TABLE "terminal_orders" (
	"id" uuid PRIMARY KEY DEFAULT uuidv7() NOT NULL,
	"order_no" text NOT NULL,
	"school_id" uuid NOT NULL,
	"terminal_ref" uuid NOT NULL,
	"terminal_id" text NOT NULL,
	"out_order_no" text NOT NULL,
	"request_hash" text NOT NULL,
	"items" jsonb NOT NULL,
	"amount_fen" integer NOT NULL,
	"subject" text NOT NULL,
	"seller_id" text,
	"royalty_account" text,
	"royalty_fen" integer,
	"royalty_timing" text,
	"status" text DEFAULT 'CREATED' NOT NULL,
	"qr_code" text,
	"expires_at" timestamp with time zone NOT NULL,
	"paid_payment_id" uuid,
	"paid_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"close_reason" text,
	"dispense_result" text,
	"failed_items" jsonb,
	"dispensed_at" timestamp with time zone,
	"callback_status" text,
	"callback_attempts" integer DEFAULT 0 NOT NULL,
	"callback_next_at" timestamp with time zone,
	"callback_last_error" text,
	"callback_acknowledged_at" timestamp with time zone,
	"settle_status" text,
	"settle_out_request_no" text,
	"settle_fen" integer,
	"settle_no" text,
	"settle_attempts" integer DEFAULT 0 NOT NULL,
	"settle_next_at" timestamp with time zone,
	"settle_last_error" text,
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "terminal_orders_amount_positive" CHECK ("terminal_orders"."amount_fen" > 0),
	CONSTRAINT "terminal_orders_status_valid" CHECK (status in ('CREATED', 'PAID', 'CLOSED')),
	CONSTRAINT "terminal_orders_dispense_valid" CHECK (dispense_result is null or dispense_result in ('OK', 'PARTIAL', 'FAILED')),
	CONSTRAINT "terminal_orders_callback_valid" CHECK (callback_status is null or callback_status in ('PENDING', 'ACKNOWLEDGED', 'GAVE_UP')),
	CONSTRAINT "terminal_orders_settle_valid" CHECK (settle_status is null or settle_status in ('PENDING', 'SENT', 'SUCCEEDED', 'FAILED', 'NOT_NEEDED')),
	CONSTRAINT "terminal_orders_royalty_within_amount" CHECK (royalty_fen is null or (royalty_fen > 0 and royalty_fen <= amount_fen))
);
--> statement-breakpoint
CREATE TABLE "terminal_payments" (
	"id" uuid PRIMARY KEY DEFAULT uuidv7() NOT NULL,
	"order_id" uuid NOT NULL,
	"school_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"seq" integer NOT NULL,
	"out_trade_no" text NOT NULL,
	"user_id" uuid,
	"status" text DEFAULT 'CREATED' NOT NULL,
	"alipay_trade_no" text,
	"buyer_id" text,
	"card_no" text,
	"paid_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "terminal_payments_channel_valid" CHECK (channel in ('QR', 'MINIAPP')),
	CONSTRAINT "terminal_payments_status_valid" CHECK (status in ('CREATED', 'PAID', 'CLOSED'))
);
--> statement-breakpoint
CREATE TABLE "terminals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"terminal_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"location" text,
	"operator_name" text,
	"money_mode" text DEFAULT 'PLAIN' NOT NULL,
	"seller_id" text,
	"royalty_account" text,
	"royalty_bps" integer,
	"royalty_fixed_fen" integer,
	"royalty_timing" text,
	"gateway_client_id" text NOT NULL,
	"callback_url" text,
	"order_timeout_seconds" integer DEFAULT 120 NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "terminals_kind_valid" CHECK (kind in ('VENDING', 'CASHIER')),
	CONSTRAINT "terminals_status_valid" CHECK (status in ('ACTIVE', 'DISABLED')),
	CONSTRAINT "terminals_money_mode_valid" CHECK (money_mode in ('PLAIN', 'RESTRICTED', 'ROYALTY')),
	CONSTRAINT "terminals_terminal_id_format" CHECK ("terminals"."terminal_id" ~ '^[A-Za-z0-9_-]{1,32}$'),
	CONSTRAINT "terminals_timeout_range" CHECK ("terminals"."order_timeout_seconds" between 30 and 86400),
	CONSTRAINT "terminals_money_mode_shape" CHECK ((money_mode = 'RESTRICTED') = (seller_id is not null)
        and (money_mode = 'ROYALTY') = (royalty_account is not null)
        and (money_mode = 'ROYALTY') = (royalty_timing is not null)
        and (money_mode <> 'ROYALTY' or ((royalty_bps is null) <> (royalty_fixed_fen is null)))
        and (money_mode = 'ROYALTY' or (royalty_bps is null and royalty_fixed_fen is null))
        and (royalty_bps is null or royalty_bps between 1 and 10000)
        and (royalty_fixed_fen is null or royalty_fixed_fen > 0)
        and (royalty_timing is null or royalty_timing in ('ON_PAYMENT', 'AFTER_DISPENSE'))),
	CONSTRAINT "terminals_accounts_format" CHECK ((seller_id is null or seller_id ~ '^2088[0-9]{12}$') and (royalty_account is null or royalty_account ~ '^2088[0-9]{12}$'))
);
--> statement-breakpoint
ALTER TABLE "refunds" DROP CONSTRAINT "refunds_kind_valid";--> statement-breakpoint
ALTER TABLE "gateway_clients" ADD COLUMN "kind" text DEFAULT 'POS' NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "terminal_order_id" uuid;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "royalty_returns" jsonb;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "terminal_dispense_window_minutes" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "terminal_orders" ADD CONSTRAINT "terminal_orders_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_orders" ADD CONSTRAINT "terminal_orders_terminal_ref_terminals_id_fk" FOREIGN KEY ("terminal_ref") REFERENCES "public"."terminals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_payments" ADD CONSTRAINT "terminal_payments_order_id_terminal_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."terminal_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_payments" ADD CONSTRAINT "terminal_payments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminals" ADD CONSTRAINT "terminals_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminals" ADD CONSTRAINT "terminals_gateway_client_id_gateway_clients_id_fk" FOREIGN KEY ("gateway_client_id") REFERENCES "public"."gateway_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_orders_order_no_key" ON "terminal_orders" USING btree ("order_no");--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_orders_terminal_out_order_key" ON "terminal_orders" USING btree ("terminal_ref","out_order_no");--> statement-breakpoint
CREATE INDEX "terminal_orders_school_idx" ON "terminal_orders" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "terminal_orders_expiry_idx" ON "terminal_orders" USING btree ("expires_at") WHERE status = 'CREATED';--> statement-breakpoint
CREATE INDEX "terminal_orders_callback_due_idx" ON "terminal_orders" USING btree ("callback_next_at") WHERE callback_status = 'PENDING';--> statement-breakpoint
CREATE INDEX "terminal_orders_settle_due_idx" ON "terminal_orders" USING btree ("settle_next_at") WHERE settle_status in ('PENDING', 'SENT');--> statement-breakpoint
CREATE INDEX "terminal_orders_awaiting_dispense_idx" ON "terminal_orders" USING btree ("school_id","paid_at") WHERE status = 'PAID' and dispense_result is null;--> statement-breakpoint
CREATE INDEX "terminal_orders_needs_person_idx" ON "terminal_orders" USING btree ("school_id") WHERE callback_status = 'GAVE_UP' or settle_status = 'FAILED';--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_payments_out_trade_no_key" ON "terminal_payments" USING btree ("out_trade_no");--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_payments_order_seq_key" ON "terminal_payments" USING btree ("order_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_payments_order_user_key" ON "terminal_payments" USING btree ("order_id","user_id") WHERE channel = 'MINIAPP';--> statement-breakpoint
CREATE INDEX "terminal_payments_order_idx" ON "terminal_payments" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "terminal_payments_card_idx" ON "terminal_payments" USING btree ("school_id","card_no","paid_at") WHERE card_no is not null;--> statement-breakpoint
CREATE INDEX "terminal_payments_user_idx" ON "terminal_payments" USING btree ("user_id","created_at") WHERE user_id is not null;--> statement-breakpoint
CREATE INDEX "terminal_payments_school_paid_idx" ON "terminal_payments" USING btree ("school_id","paid_at") WHERE status = 'PAID';--> statement-breakpoint
CREATE UNIQUE INDEX "terminals_school_terminal_key" ON "terminals" USING btree ("school_id","terminal_id");--> statement-breakpoint
CREATE UNIQUE INDEX "terminals_gateway_client_key" ON "terminals" USING btree ("gateway_client_id");--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_terminal_order_id_terminal_orders_id_fk" FOREIGN KEY ("terminal_order_id") REFERENCES "public"."terminal_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refunds_terminal_order_idx" ON "refunds" USING btree ("terminal_order_id") WHERE terminal_order_id is not null;--> statement-breakpoint
CREATE INDEX "refunds_due_idx" ON "refunds" USING btree ("next_attempt_at") WHERE status = 'PENDING' and next_attempt_at is not null;--> statement-breakpoint
ALTER TABLE "gateway_clients" ADD CONSTRAINT "gateway_clients_kind_valid" CHECK (kind in ('POS', 'TERMINAL'));--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_kind_valid" CHECK (kind in ('DEDUCTION_REVERSAL', 'RECHARGE_REFUND', 'TERMINAL_DISPENSE', 'TERMINAL_UNWANTED_PAYMENT'));--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_terminal_dispense_window" CHECK ("schools"."terminal_dispense_window_minutes" between 1 and 1440);