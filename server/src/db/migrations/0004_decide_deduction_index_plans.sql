-- decide_deduction's statements are planned once per connection and the plan is kept. A connection that
-- first ran it while `deductions` was small (a new database, a new school) keeps a sequential scan for the
-- daily-limit sum and pays for it on every swipe as the table grows (measured: 1.4 ms per call after 3,000
-- rows, growing). Every statement in it has an index made for it, so the planner is told to use them.
alter function decide_deduction(text, text, timestamptz, uuid, text, text, integer, text, timestamptz, text, timestamptz)
  set enable_seqscan = off;
--> statement-breakpoint
alter function deduction_answer(deductions, text, integer, timestamptz) set enable_seqscan = off;
--> statement-breakpoint
-- The same plans also pick between indexes by the table's statistics; a young, fast-growing table is
-- re-analysed early (every 1 % or 500 rows) so that they are made from its real size, not from an empty one.
alter table deductions set (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 500);
