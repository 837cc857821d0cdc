DROP TABLE "campus_code_payments" CASCADE;--> statement-breakpoint
ALTER TABLE "bindings" ADD COLUMN "student_no" text;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "alipay_institution_code" text;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "campus_code_window_days" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "campus_code_late_after_hours" integer DEFAULT 24 NOT NULL;--> statement-breakpoint
ALTER TABLE "schools" ADD COLUMN "campus_code_max_fen" integer DEFAULT 20000 NOT NULL;--> statement-breakpoint
CREATE INDEX "bindings_student_idx" ON "bindings" USING btree ("school_id","student_no") WHERE status <> 'UNBOUND';--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_alipay_institution_code_format" CHECK ("schools"."alipay_institution_code" is null or "schools"."alipay_institution_code" ~ '^2088[0-9]{12}$');--> statement-breakpoint
ALTER TABLE "schools" ADD CONSTRAINT "schools_campus_code_window" CHECK ("schools"."campus_code_window_days" between 1 and 10 and "schools"."campus_code_late_after_hours" between 1 and 240 and "schools"."campus_code_max_fen" > 0);