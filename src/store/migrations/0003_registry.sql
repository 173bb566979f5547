-- 0003: the registry's projections beyond holdings and the ledger: caps,
-- free allocations, compliance per unit and year, closed years, shortfalls
-- owed (deducted from later allocations) and freezes. Written in the same
-- transaction as the journal rows of the command that changed them.

CREATE TABLE caps (
  compliance_year  INTEGER NOT NULL,
  sector           TEXT    NOT NULL,
  cap_quantity     BIGINT  NOT NULL CHECK (cap_quantity > 0),
  paid_share_bps   BIGINT  NOT NULL CHECK (paid_share_bps BETWEEN 0 AND 10000),
  issued           BIGINT  NOT NULL CHECK (issued >= 0),
  free_allocated   BIGINT  NOT NULL CHECK (free_allocated >= 0),
  reason           TEXT    NOT NULL,
  updated_sequence BIGINT  NOT NULL,
  PRIMARY KEY (compliance_year, sector)
);

-- Append-only: one row per AllocateFree. Factors in parts per 10,000, comma-separated
-- (empty: direct, or a benchmark without factors).
CREATE TABLE allocations (
  allocation_id           BIGINT   PRIMARY KEY,
  compliance_year         INTEGER  NOT NULL,
  sector                  TEXT     NOT NULL,
  participant_id          BIGINT   NOT NULL,
  instrument              TEXT     NOT NULL,
  gross_quantity          BIGINT   NOT NULL CHECK (gross_quantity > 0),
  deducted_quantity       BIGINT   NOT NULL CHECK (deducted_quantity >= 0),
  issued_quantity         BIGINT   NOT NULL CHECK (issued_quantity >= 0),
  benchmark               BOOLEAN  NOT NULL,
  output                  BIGINT   NOT NULL,
  output_unit             TEXT     NOT NULL,
  benchmark_micro_tonnes  BIGINT   NOT NULL,
  factors_per_10000       TEXT     NOT NULL,
  reason                  TEXT     NOT NULL,
  ledger_entry_id         BIGINT   NOT NULL,
  sequence                BIGINT   NOT NULL,
  allocated_at_unix_nanos BIGINT   NOT NULL
);

-- One row per key emitting unit and compliance year (unit = its holding account).
CREATE TABLE compliance (
  compliance_year        INTEGER NOT NULL,
  participant_id         BIGINT  NOT NULL,
  holding_account_id     BIGINT  NOT NULL,
  sector                 TEXT    NOT NULL,
  verifier               TEXT    NOT NULL,
  report_reference       TEXT    NOT NULL,
  obligation             BIGINT  NOT NULL CHECK (obligation >= 0),
  surrendered_allowances BIGINT  NOT NULL CHECK (surrendered_allowances >= 0),
  surrendered_ccer       BIGINT  NOT NULL CHECK (surrendered_ccer >= 0),
  shortfall              BIGINT  NOT NULL CHECK (shortfall >= 0),
  closed                 BOOLEAN NOT NULL,
  penalty_basis_fen      BIGINT  NOT NULL CHECK (penalty_basis_fen >= 0),
  penalty_multiple       INTEGER NOT NULL,
  penalty_fen            BIGINT  NOT NULL CHECK (penalty_fen >= 0),
  updated_sequence       BIGINT  NOT NULL,
  PRIMARY KEY (compliance_year, participant_id)
);

CREATE TABLE compliance_years_closed (
  compliance_year   INTEGER PRIMARY KEY,
  penalty_basis_fen BIGINT  NOT NULL CHECK (penalty_basis_fen >= 0),
  penalty_multiple  INTEGER NOT NULL,
  closed_sequence   BIGINT  NOT NULL
);

-- Shortfall of a closed year not yet deducted from an allocation (0: fully deducted).
CREATE TABLE shortfalls_owed (
  holding_account_id BIGINT  NOT NULL,
  compliance_year    INTEGER NOT NULL,
  owed               BIGINT  NOT NULL CHECK (owed >= 0),
  updated_sequence   BIGINT  NOT NULL,
  PRIMARY KEY (holding_account_id, compliance_year)
);

-- The first use of each idempotency key of a registry command (a repeat answers from it).
CREATE TABLE registry_idempotency (
  command         TEXT   NOT NULL,
  target          BIGINT NOT NULL,
  idempotency_key TEXT   NOT NULL,
  fingerprint     TEXT   NOT NULL,
  sequence        BIGINT NOT NULL,
  object_id       BIGINT NOT NULL,
  PRIMARY KEY (command, target, idempotency_key)
);

-- Freezes in force (remaining > 0) and lifted (remaining = 0).
CREATE TABLE freezes (
  freeze_id            BIGINT   PRIMARY KEY,
  holding_account_id   BIGINT   NOT NULL,
  instrument           TEXT     NOT NULL,
  quantity             BIGINT   NOT NULL CHECK (quantity > 0),
  remaining_quantity   BIGINT   NOT NULL CHECK (remaining_quantity >= 0),
  authority            SMALLINT NOT NULL CHECK (authority BETWEEN 1 AND 2),
  placed_by_role       SMALLINT NOT NULL,
  ordered_by           TEXT     NOT NULL,
  reason               TEXT     NOT NULL,
  legal_reference      TEXT     NOT NULL,
  placed_at_unix_nanos BIGINT   NOT NULL,
  lifted_at_unix_nanos BIGINT   NOT NULL,
  updated_sequence     BIGINT   NOT NULL
);
CREATE INDEX freezes_by_account ON freezes (holding_account_id);
