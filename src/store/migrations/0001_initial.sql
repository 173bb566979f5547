-- 0001: the event journal and the projections of the foundation slice.
-- Every amount is BIGINT fen or tonnes; no floating point anywhere.

-- Append-only: one row per engine event, keyed by the command's sequence.
CREATE TABLE journal (
  sequence               BIGINT  NOT NULL CHECK (sequence > 0),
  event_index            INTEGER NOT NULL CHECK (event_index >= 0),
  recorded_at_unix_nanos BIGINT  NOT NULL,
  kind                   TEXT    NOT NULL,
  payload                JSONB   NOT NULL,
  PRIMARY KEY (sequence, event_index)
);

CREATE TABLE participants (
  participant_id     BIGINT   PRIMARY KEY,
  code               TEXT     NOT NULL UNIQUE,
  name               TEXT     NOT NULL,
  participant_type   SMALLINT NOT NULL CHECK (participant_type BETWEEN 1 AND 3),
  holding_account_id BIGINT   NOT NULL UNIQUE,
  cash_account_id    BIGINT   NOT NULL UNIQUE,
  token_sha256       BYTEA    NOT NULL CHECK (length(token_sha256) = 32),
  created_sequence   BIGINT   NOT NULL
);

CREATE TABLE cash_accounts (
  cash_account_id  BIGINT PRIMARY KEY,
  participant_id   BIGINT NOT NULL,
  available_fen    BIGINT NOT NULL,
  reserved_fen     BIGINT NOT NULL CHECK (reserved_fen >= 0),
  unsettled_fen    BIGINT NOT NULL CHECK (unsettled_fen >= 0),
  updated_sequence BIGINT NOT NULL
);

-- Deposits and withdrawals with their idempotency keys and first result.
CREATE TABLE cash_movements (
  cash_account_id         BIGINT  NOT NULL,
  withdrawal              BOOLEAN NOT NULL,
  idempotency_key         TEXT    NOT NULL,
  amount_fen              BIGINT  NOT NULL CHECK (amount_fen > 0),
  sequence                BIGINT  NOT NULL,
  available_after_fen     BIGINT  NOT NULL,
  reserved_after_fen      BIGINT  NOT NULL,
  unsettled_after_fen     BIGINT  NOT NULL,
  PRIMARY KEY (cash_account_id, withdrawal, idempotency_key)
);

CREATE TABLE holdings (
  holding_account_id BIGINT NOT NULL,
  instrument         TEXT   NOT NULL,
  available          BIGINT NOT NULL,
  reserved           BIGINT NOT NULL CHECK (reserved >= 0),
  pending            BIGINT NOT NULL CHECK (pending >= 0),
  frozen             BIGINT NOT NULL CHECK (frozen >= 0),
  pledged            BIGINT NOT NULL CHECK (pledged >= 0),
  updated_sequence   BIGINT NOT NULL,
  PRIMARY KEY (holding_account_id, instrument)
);

-- Append-only, hash-chained: hash = SHA-256(prev_hash || canonical entry bytes).
CREATE TABLE ledger_entries (
  entry_id               BIGINT   PRIMARY KEY CHECK (entry_id > 0),
  sequence               BIGINT   NOT NULL,
  recorded_at_unix_nanos BIGINT   NOT NULL,
  instrument             TEXT     NOT NULL,
  from_account_id        BIGINT   NOT NULL,
  to_account_id          BIGINT   NOT NULL,
  quantity               BIGINT   NOT NULL CHECK (quantity > 0),
  kind                   SMALLINT NOT NULL,
  reference              TEXT     NOT NULL,
  prev_hash              BYTEA    NOT NULL CHECK (length(prev_hash) = 32),
  hash                   BYTEA    NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX ledger_entries_from ON ledger_entries (from_account_id, entry_id);
CREATE INDEX ledger_entries_to ON ledger_entries (to_account_id, entry_id);

CREATE TABLE orders (
  order_id                  BIGINT   PRIMARY KEY,
  client_order_id           TEXT     NOT NULL,
  participant_id            BIGINT   NOT NULL,
  instrument                TEXT     NOT NULL,
  side                      SMALLINT NOT NULL,
  order_type                SMALLINT NOT NULL,
  time_in_force             SMALLINT NOT NULL,
  mode                      SMALLINT NOT NULL,
  price_fen                 BIGINT   NOT NULL,
  quantity                  BIGINT   NOT NULL CHECK (quantity > 0),
  filled_quantity           BIGINT   NOT NULL CHECK (filled_quantity >= 0),
  status                    SMALLINT NOT NULL,
  sequence                  BIGINT   NOT NULL,
  entered_at_unix_nanos     BIGINT   NOT NULL,
  priority                  BIGINT   NOT NULL,
  reserved_fen              BIGINT   NOT NULL CHECK (reserved_fen >= 0),
  reserved_unsettled_fen    BIGINT   NOT NULL CHECK (reserved_unsettled_fen >= 0),
  updated_sequence          BIGINT   NOT NULL,
  CHECK (filled_quantity <= quantity)
);
CREATE INDEX orders_open ON orders (instrument, priority) WHERE status IN (1, 2);
CREATE INDEX orders_participant ON orders (participant_id, order_id);

CREATE TABLE trades (
  trade_id                 BIGINT   PRIMARY KEY,
  instrument               TEXT     NOT NULL,
  mode                     SMALLINT NOT NULL,
  price_fen                BIGINT   NOT NULL CHECK (price_fen > 0),
  quantity                 BIGINT   NOT NULL CHECK (quantity > 0),
  buy_order_id             BIGINT   NOT NULL,
  sell_order_id            BIGINT   NOT NULL,
  buyer_participant_id     BIGINT   NOT NULL,
  seller_participant_id    BIGINT   NOT NULL,
  aggressor_side           SMALLINT NOT NULL,
  sequence                 BIGINT   NOT NULL,
  executed_at_unix_nanos   BIGINT   NOT NULL
);
