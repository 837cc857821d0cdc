ALTER TABLE "bindings" ADD COLUMN "proof" text;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "approval" text DEFAULT 'NOT_REQUIRED' NOT NULL;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "approved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "roster_entries" ADD COLUMN "id_tail_hash" text;--> statement-breakpoint
ALTER TABLE "roster_entries" ADD COLUMN "guardian_phone_hash" text;--> statement-breakpoint
ALTER TABLE "roster_entries" ADD COLUMN "guardian_phone_enc" text;--> statement-breakpoint
ALTER TABLE "roster_entries" ADD COLUMN "left_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "roster_entries" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "parent_approval" text DEFAULT 'ADULTS' NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "swipe_max_age_minutes" integer DEFAULT 1440 NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "swipe_max_ahead_minutes" integer DEFAULT 5 NOT NULL;--> statement-breakpoint
-- Before the one-holder rule: where a card had several live "own card" bindings, the first keeps it and the
-- others read as parents (nothing had been deployed; this only tidies development databases).
UPDATE "bindings" b SET "relation" = 'PARENT' WHERE b."relation" = 'SELF' AND b."status" <> 'UNBOUND' AND EXISTS (SELECT 1 FROM "bindings" o WHERE o."school_id" = b."school_id" AND o."card_no" = b."card_no" AND o."relation" = 'SELF' AND o."status" <> 'UNBOUND' AND (o."created_at", o."id") < (b."created_at", b."id"));--> statement-breakpoint
CREATE UNIQUE INDEX "bindings_one_holder_per_card" ON "bindings" USING btree ("school_id","card_no") WHERE relation = 'SELF' and status <> 'UNBOUND';--> statement-breakpoint
CREATE INDEX "bindings_card_idx" ON "bindings" USING btree ("school_id","card_no");--> statement-breakpoint
CREATE INDEX "roster_entries_guardian_phone_hash_idx" ON "roster_entries" USING btree ("school_id","guardian_phone_hash");--> statement-breakpoint
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_proof_valid" CHECK (proof is null or proof in ('ID_NUMBER', 'PHONE', 'GUARDIAN_PHONE', 'STUDENT_NO', 'ALIPAY_CERT', 'ALIPAY_MOBILE', 'ALIPAY_GUARDIAN_MOBILE'));--> statement-breakpoint
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_approval_valid" CHECK (approval in ('NOT_REQUIRED', 'PENDING', 'APPROVED'));--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_parent_approval_valid" CHECK (parent_approval in ('ADULTS', 'ALWAYS', 'NEVER'));--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_swipe_window_valid" CHECK ("schools"."swipe_max_age_minutes" between 1 and 43200 and "schools"."swipe_max_ahead_minutes" between 0 and 1440);