-- 0020: the client order ids of closed orders, kept compactly for starts.
-- A client order id stays used for good, so a start gives the engine the id
-- of every closed order it does not hold, as a 64-bit digest
-- (engine::client_id_digest, FNV-1a) with its order id. Until now each start
-- read them all from `orders` as text, about 1 s per million closed orders
-- (BENCHMARKS.md, "Recovery"). Now a start reads the digests stored here,
-- plus the closed orders not yet stored (those whose updated_sequence is
-- above the highest through_sequence), and stores those in turn once its
-- checks have passed (a refused start stores nothing).
--
-- A row holds part of one participant's digests: `pairs` is a run of 16-byte
-- (digest, order id) pairs, each big-endian, together the client ids of the
-- participant's closed orders that the engine does not hold and whose
-- updated_sequence is at most through_sequence and above the previous
-- through_sequence. The rows are derived from `orders`. Delete all of them
-- or none: the next start then reads `orders` in full and stores them
-- again, but deleting only some loses client ids. Delete them all, too,
-- after editing closed orders of earlier days by hand (a start reads only
-- the orders updated after the last run), and in a migration that changes
-- the digest function. A run stored past the day's opening is not trusted:
-- the start reads `orders` in full and stores one run in place of all.
CREATE TABLE closed_client_id_digests (
  through_sequence BIGINT  NOT NULL CHECK (through_sequence > 0),
  participant_id   BIGINT  NOT NULL,
  part             INTEGER NOT NULL CHECK (part >= 0),
  pairs            BYTEA   NOT NULL CHECK (length(pairs) > 0 AND length(pairs) % 16 = 0),
  PRIMARY KEY (through_sequence, participant_id, part)
);

-- Digests do not compress: without this PostgreSQL tried to (pglz) on every
-- row past 2 kB, 7.1 s against 0.4 s to store 64 MB with psql.
ALTER TABLE closed_client_id_digests ALTER COLUMN pairs SET STORAGE EXTERNAL;
