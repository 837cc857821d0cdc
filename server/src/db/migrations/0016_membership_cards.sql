CREATE TABLE "membership_cards" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"card_no" text NOT NULL,
	"alipay_user_id" text NOT NULL,
	"level" text NOT NULL,
	"status" text DEFAULT 'OPENED' NOT NULL,
	"alipay_card_no" text,
	"template_id" text NOT NULL,
	"wanted_template_id" text NOT NULL,
	"template_change_reason" text,
	"points" integer DEFAULT 0 NOT NULL,
	"synced_points" integer DEFAULT 0 NOT NULL,
	"points_change_reason" text,
	"sync_attempts" integer DEFAULT 0 NOT NULL,
	"next_sync_at" timestamp with time zone,
	"sync_lease_until" timestamp with time zone,
	"last_sync_error" text,
	"sync_failed_at" timestamp with time zone,
	"added_at" timestamp with time zone,
	"removed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "membership_cards_level_valid" CHECK (level in ('STUDENT', 'STAFF')),
	CONSTRAINT "membership_cards_status_valid" CHECK (status in ('OPENED', 'IN_WALLET', 'REMOVED')),
	CONSTRAINT "membership_cards_points_not_negative" CHECK ("membership_cards"."points" >= 0)
);
--> statement-breakpoint
CREATE TABLE "membership_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"school_id" uuid NOT NULL,
	"membership_card_id" uuid NOT NULL,
	"card_no" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_txn_no" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "membership_programs" (
	"school_id" uuid PRIMARY KEY NOT NULL,
	"crm_token_hash" text NOT NULL,
	"card_management_url" text NOT NULL,
	"student_template_id" text NOT NULL,
	"staff_template_id" text NOT NULL,
	"lost_template_id" text NOT NULL,
	"signing_key_ref" text NOT NULL,
	"claim_url" text,
	"points_per_yuan" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "membership_programs_points_per_yuan" CHECK ("membership_programs"."points_per_yuan" between 0 and 1000)
);
--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_decline_reason_valid";--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_tombstone_shape";--> statement-breakpoint
ALTER TABLE "deductions" ADD COLUMN "dynamic_code_hash" text;--> statement-breakpoint
ALTER TABLE "membership_cards" ADD CONSTRAINT "membership_cards_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "membership_codes" ADD CONSTRAINT "membership_codes_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "membership_codes" ADD CONSTRAINT "membership_codes_membership_card_id_membership_cards_id_fk" FOREIGN KEY ("membership_card_id") REFERENCES "public"."membership_cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "membership_programs" ADD CONSTRAINT "membership_programs_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "membership_cards_school_card_live_key" ON "membership_cards" USING btree ("school_id","card_no") WHERE status <> 'REMOVED';--> statement-breakpoint
CREATE UNIQUE INDEX "membership_cards_school_user_live_key" ON "membership_cards" USING btree ("school_id","alipay_user_id") WHERE status <> 'REMOVED';--> statement-breakpoint
CREATE INDEX "membership_cards_out_of_sync_idx" ON "membership_cards" USING btree ("next_sync_at") WHERE status = 'IN_WALLET' and sync_failed_at is null and next_sync_at is not null;--> statement-breakpoint
CREATE INDEX "membership_codes_expires_idx" ON "membership_codes" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "membership_programs_crm_token_hash_key" ON "membership_programs" USING btree ("crm_token_hash");--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_decline_reason_valid" CHECK ((decision = 'APPROVED' and decline_reason is null) or (decision = 'DECLINED' and decline_reason is not null and decline_reason in ('CODE_UNKNOWN', 'CODE_USED', 'CODE_EXPIRED', 'SCHOOL_SUSPENDED', 'WITHHOLDING_DISABLED', 'OUTSIDE_TIME_WINDOW', 'NOT_BOUND', 'CARD_LOST', 'NOT_SIGNED', 'IN_ARREARS', 'OVER_TXN_LIMIT', 'OVER_DAILY_LIMIT', 'REVERSED')));--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_tombstone_shape" CHECK ((amount_fen is not null and (card_no is not null or dynamic_code_hash is not null)) or (decline_reason = 'REVERSED' and status = 'REVERSED'));