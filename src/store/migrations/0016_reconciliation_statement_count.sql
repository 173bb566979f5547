-- 0016: each end of day's reconciliation report records how many settlement
-- statements were written with it ("statements_written"): the engine no
-- longer keeps every statement in memory, and a repeated RunEndOfDay of a
-- closed day answers this count. Reports written before have it filled in
-- from the statements of their day.
UPDATE reconciliations r
   SET report = jsonb_set(r.report, '{statements_written}', to_jsonb(s.n))
  FROM (SELECT trading_date, count(*) AS n FROM statements GROUP BY trading_date) s
 WHERE s.trading_date = r.trading_date AND NOT r.report ? 'statements_written';
