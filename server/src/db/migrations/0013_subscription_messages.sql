CREATE TABLE "message_subscriptions" (
	"user_id" uuid NOT NULL,
	"template_id" text NOT NULL,
	"remaining" integer DEFAULT 0 NOT NULL,
	"is_long_term" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_subscriptions_user_id_template_id_pk" PRIMARY KEY("user_id","template_id"),
	CONSTRAINT "message_subscriptions_remaining" CHECK ("message_subscriptions"."remaining" >= 0)
);
--> statement-breakpoint
CREATE TABLE "user_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"school_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"dedup_key" text NOT NULL,
	"page" text NOT NULL,
	"values" jsonb NOT NULL,
	"template_id" text,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"skip_reason" text,
	"quota_taken" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_messages_status_valid" CHECK (status in ('PENDING', 'SENT', 'SKIPPED', 'FAILED', 'UNCONFIRMED'))
);
--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "low_balance_fen" integer;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "balance_low_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "message_subscriptions" ADD CONSTRAINT "message_subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_messages" ADD CONSTRAINT "user_messages_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_messages" ADD CONSTRAINT "user_messages_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "user_messages_dedup_key" ON "user_messages" USING btree ("dedup_key");--> statement-breakpoint
CREATE INDEX "user_messages_due_idx" ON "user_messages" USING btree ("next_attempt_at") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "user_messages_user_idx" ON "user_messages" USING btree ("user_id","created_at");