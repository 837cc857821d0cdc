CREATE TABLE "agreement_cards" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"agreement_id" uuid NOT NULL,
	"binding_id" uuid NOT NULL,
	"school_id" uuid NOT NULL,
	"card_no" text NOT NULL,
	"txn_limit_fen" integer,
	"daily_limit_fen" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	CONSTRAINT "agreement_cards_limits_positive" CHECK (("agreement_cards"."txn_limit_fen" is null or "agreement_cards"."txn_limit_fen" > 0) and ("agreement_cards"."daily_limit_fen" is null or "agreement_cards"."daily_limit_fen" > 0))
);
--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_decline_reason_valid";--> statement-breakpoint
ALTER TABLE "withholding_agreements" DROP CONSTRAINT "withholding_agreements_binding_id_bindings_id_fk";
--> statement-breakpoint
ALTER TABLE "agreement_cards" ADD CONSTRAINT "agreement_cards_agreement_id_withholding_agreements_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."withholding_agreements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreement_cards" ADD CONSTRAINT "agreement_cards_binding_id_bindings_id_fk" FOREIGN KEY ("binding_id") REFERENCES "public"."bindings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agreement_cards" ADD CONSTRAINT "agreement_cards_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agreement_cards_live_key" ON "agreement_cards" USING btree ("agreement_id","binding_id") WHERE removed_at is null;--> statement-breakpoint
CREATE INDEX "agreement_cards_binding_idx" ON "agreement_cards" USING btree ("binding_id") WHERE removed_at is null;--> statement-breakpoint
-- Every agreement so far covered the one card it was signed for: that card becomes its first covered card.
INSERT INTO "agreement_cards" ("agreement_id", "binding_id", "school_id", "card_no", "created_at", "updated_at") SELECT a."id", a."binding_id", a."school_id", b."card_no", a."created_at", a."updated_at" FROM "withholding_agreements" a JOIN "bindings" b ON b."id" = a."binding_id";--> statement-breakpoint
ALTER TABLE "withholding_agreements" DROP COLUMN "binding_id";--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_decline_reason_valid" CHECK ((decision = 'APPROVED' and decline_reason is null) or (decision = 'DECLINED' and decline_reason is not null and decline_reason in ('NOT_BOUND', 'NOT_SIGNED', 'CARD_LOST', 'IN_ARREARS', 'OVER_TXN_LIMIT', 'OVER_DAILY_LIMIT', 'WITHHOLDING_DISABLED', 'REVERSED', 'OUTSIDE_TIME_WINDOW')));