-- 0008: the journal's payload becomes json (the text as written, checked to be
-- valid JSON) instead of jsonb. The journal is written at the order rate and
-- read rarely (recovery's head check, audits, replays); jsonb parsed every
-- payload into its binary form and every number into numeric, which was about
-- half of the database backend's time per order (BENCHMARKS.md, "Journal").
-- The ->> and -> operators work on json as they did on jsonb.
ALTER TABLE journal ALTER COLUMN payload TYPE json USING payload::json;
