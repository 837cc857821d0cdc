-- Issue 18 §2: a recharge order is written four times in its first seconds (created, PAID, leased by a
-- crediting drainer, CREDITED). Packed pages (fillfactor 100) leave the next version no room beside the row,
-- so it goes to another page: the drainer's lease (next_credit_at, no indexed column) is then not a HOT
-- update and writes an entry into each of the table's six indexes, and every version extends the table.
-- Room on the page keeps the lease HOT and the versions of an order together. Applies to pages written
-- from now on; the rows already stored keep their pages.
ALTER TABLE "recharge_orders" SET (fillfactor = 70);
