-- 0013: one journal row per command instead of one per event. A command's
-- events travel together in one json array, [[kind, payload], ...] in the
-- order the engine emitted them. Per row, PostgreSQL pays a tuple header, a
-- primary-key insertion and COPY's row overhead whatever the payload; with
-- four events per order (a fill's order, cash, holding and trade changes)
-- those were most of the journal's cost (BENCHMARKS.md, "Journal").
--
-- The view `journal` keeps the per-event shape the table had (sequence,
-- event_index, recorded_at_unix_nanos, kind, payload), so queries written
-- against it keep working; `payload` is the event's json text as written.
-- Reading the last sequence goes to journal_commands (its primary key).
--
-- toast_tuple_target: a command with fills easily passes the 2 kB at which
-- PostgreSQL starts compressing a row's values (pglz was a sixth of the
-- backend's time, BENCHMARKS.md); rows up to the page's 8 kB now stay inline
-- uncompressed, and only larger ones (a sweep through dozens of orders) are
-- compressed or moved out of line.
CREATE TABLE journal_commands (
  sequence               BIGINT PRIMARY KEY CHECK (sequence > 0),
  recorded_at_unix_nanos BIGINT NOT NULL,
  events                 JSON   NOT NULL
) WITH (toast_tuple_target = 8160);

INSERT INTO journal_commands (sequence, recorded_at_unix_nanos, events)
SELECT sequence, min(recorded_at_unix_nanos), json_agg(json_build_array(kind, payload) ORDER BY event_index)
FROM journal GROUP BY sequence;

DROP TABLE journal;

CREATE VIEW journal AS
SELECT c.sequence,
       (e.ordinality - 1)::integer AS event_index,
       c.recorded_at_unix_nanos,
       e.event ->> 0 AS kind,
       e.event -> 1 AS payload
FROM journal_commands c
CROSS JOIN LATERAL json_array_elements(c.events) WITH ORDINALITY AS e(event, ordinality);
