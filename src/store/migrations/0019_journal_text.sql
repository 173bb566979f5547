-- 0019: a command's events are stored as `text` instead of `json`. The text is
-- the same JSON array as before, [[kind, payload], ...], written by carbond's
-- own encoder; `json` made PostgreSQL lex and check every row as COPY took it
-- (json_lex was about a ninth of the backends' time at the order rate,
-- BENCHMARKS.md, "Journal"), and nothing reads the journal at the order rate.
-- The view `journal` parses a row when a query reaches it (to split the
-- array it already read every row's JSON), so queries written against it
-- keep working; its `payload` stays `json`. The change rewrites
-- journal_commands once (json to text is a text conversion, no parsing):
-- 5.3 s for a million 1 kB commands on the project's machine, and it needs
-- the table's size free on disk while it runs.
DROP VIEW journal;

ALTER TABLE journal_commands ALTER COLUMN events TYPE text;

CREATE VIEW journal AS
SELECT c.sequence,
       (e.ordinality - 1)::integer AS event_index,
       c.recorded_at_unix_nanos,
       e.event ->> 0 AS kind,
       e.event -> 1 AS payload
FROM journal_commands c
CROSS JOIN LATERAL json_array_elements(c.events::json) WITH ORDINALITY AS e(event, ordinality);
