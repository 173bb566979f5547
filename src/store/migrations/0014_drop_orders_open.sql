-- 0014: drop the index orders_open (instrument, priority) WHERE status IN
-- (1, 2). No query uses it: recovery reads every order by its primary key and
-- the order queries page by order_id. Every resting order paid an insertion
-- into it, and every fill that closed one an index entry more, on the path
-- each order's acknowledgement waits for (BENCHMARKS.md, "Journal").
DROP INDEX orders_open;
