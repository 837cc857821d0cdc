-- Issue 15: a terminal order's school and terminal checked by one foreign key instead of two. Each foreign key
-- check of an insert locks the referenced row (SELECT … FOR KEY SHARE): every order of a school locked that
-- school's one row, and when orders of one school commit side by side the lock becomes a MultiXact (the
-- row's locker list rewritten and WAL-logged by each new locker). The order's (terminal_ref, school_id)
-- now references the terminal's (id, school_id): the school exists because the terminal's own foreign key
-- says so, and a terminal with orders can neither go nor move to another school. Stronger than the two
-- keys it replaces (the order's school is its terminal's school), one locked row fewer per order.
CREATE UNIQUE INDEX "terminals_id_school_key" ON "terminals" USING btree ("id","school_id");--> statement-breakpoint
ALTER TABLE "terminal_orders" ADD CONSTRAINT "terminal_orders_terminal_school_fk" FOREIGN KEY ("terminal_ref","school_id") REFERENCES "public"."terminals"("id","school_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_orders" DROP CONSTRAINT "terminal_orders_school_id_schools_id_fk";--> statement-breakpoint
ALTER TABLE "terminal_orders" DROP CONSTRAINT "terminal_orders_terminal_ref_terminals_id_fk";
