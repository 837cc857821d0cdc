CREATE TABLE "admin_invitations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"role" text NOT NULL,
	"display_name" text,
	"code_hash" text NOT NULL,
	"created_by" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"redeemed_by" uuid,
	"redeemed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "admin_invitations_role_valid" CHECK (role in ('OWNER', 'STAFF', 'VIEWER')),
	CONSTRAINT "admin_invitations_redeemed_together" CHECK ((redeemed_by is null) = (redeemed_at is null))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"school_id" uuid,
	"actor_kind" text NOT NULL,
	"actor_id" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"before" jsonb,
	"after" jsonb,
	"request_id" text,
	CONSTRAINT "audit_log_actor_kind_valid" CHECK (actor_kind in ('ADMIN', 'OPERATOR', 'SYSTEM'))
);
--> statement-breakpoint
CREATE TABLE "isv_authorization_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"state_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "isv_authorizations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"school_id" uuid NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"app_auth_token_enc" text NOT NULL,
	"app_auth_token_hash" text NOT NULL,
	"app_refresh_token_enc" text,
	"auth_app_id" text NOT NULL,
	"merchant_user_id" text NOT NULL,
	"expires_at" timestamp with time zone,
	"refresh_expires_at" timestamp with time zone,
	"auth_time" timestamp with time zone,
	"source" text NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "isv_authorizations_status_valid" CHECK (status in ('ACTIVE', 'REPLACED', 'CANCELLED', 'INVALID'))
);
--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_decline_reason_valid";--> statement-breakpoint
ALTER TABLE "school_admins" DROP CONSTRAINT "school_admins_role_valid";--> statement-breakpoint
ALTER TABLE "schools" DROP CONSTRAINT "schools_status_valid";--> statement-breakpoint
ALTER TABLE "schools" ALTER COLUMN "status" SET DEFAULT 'PENDING';--> statement-breakpoint
ALTER TABLE "schools" ALTER COLUMN "cardsys_endpoint" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ALTER COLUMN "cardsys_username" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ALTER COLUMN "cardsys_password_enc" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "school_admins" ADD COLUMN "display_name" text;--> statement-breakpoint
ALTER TABLE "school_admins" ADD COLUMN "invitation_id" uuid;--> statement-breakpoint
ALTER TABLE "school_admins" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "suspension_reason" text;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "suspension_detail" text;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "suspended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "activated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "service_phone" text;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "cardsys_verified_at" timestamp with time zone;--> statement-breakpoint
-- Rows of the old vocabulary (none were deployed; development databases may hold them).
UPDATE "school_admins" SET "role" = 'STAFF' WHERE "role" = 'OPERATOR';--> statement-breakpoint
UPDATE "schools" SET "status" = 'SUSPENDED', "suspension_reason" = 'OPERATOR', "suspended_at" = now() WHERE "status" = 'DISABLED';--> statement-breakpoint
ALTER TABLE "admin_invitations" ADD CONSTRAINT "admin_invitations_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "admin_invitations" ADD CONSTRAINT "admin_invitations_redeemed_by_users_id_fk" FOREIGN KEY ("redeemed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "isv_authorization_links" ADD CONSTRAINT "isv_authorization_links_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "isv_authorizations" ADD CONSTRAINT "isv_authorizations_school_id_schools_id_fk" FOREIGN KEY ("school_id") REFERENCES "public"."schools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "admin_invitations_code_hash_key" ON "admin_invitations" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "admin_invitations_school_idx" ON "admin_invitations" USING btree ("school_id","created_at");--> statement-breakpoint
CREATE INDEX "audit_log_school_idx" ON "audit_log" USING btree ("school_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "isv_authorization_links_state_key" ON "isv_authorization_links" USING btree ("state_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "isv_authorizations_one_active_per_school" ON "isv_authorizations" USING btree ("school_id") WHERE status = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "isv_authorizations_token_hash_idx" ON "isv_authorizations" USING btree ("app_auth_token_hash");--> statement-breakpoint
CREATE INDEX "isv_authorizations_auth_app_idx" ON "isv_authorizations" USING btree ("auth_app_id");--> statement-breakpoint
CREATE INDEX "isv_authorizations_expiry_idx" ON "isv_authorizations" USING btree ("expires_at") WHERE status = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "school_admins_user_idx" ON "school_admins" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "deductions" ADD CONSTRAINT "deductions_decline_reason_valid" CHECK ((decision = 'APPROVED' and decline_reason is null) or (decision = 'DECLINED' and decline_reason is not null and decline_reason in ('NOT_BOUND', 'NOT_SIGNED', 'CARD_LOST', 'IN_ARREARS', 'OVER_TXN_LIMIT', 'OVER_DAILY_LIMIT', 'WITHHOLDING_DISABLED', 'REVERSED', 'OUTSIDE_TIME_WINDOW', 'SCHOOL_SUSPENDED')));--> statement-breakpoint
ALTER TABLE "school_admins" ADD CONSTRAINT "school_admins_role_valid" CHECK (role in ('OWNER', 'STAFF', 'VIEWER'));--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_suspension_reason_valid" CHECK ((status = 'SUSPENDED') = (suspension_reason is not null) and (suspension_reason is null or suspension_reason in ('OPERATOR', 'AUTHORIZATION_CANCELLED', 'AUTHORIZATION_INVALID')));--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_active_is_connected" CHECK (status = 'PENDING' or (alipay_app_auth_token_enc is not null and cardsys_endpoint is not null));--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_status_valid" CHECK (status in ('PENDING', 'ACTIVE', 'SUSPENDED'));