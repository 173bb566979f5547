-- 0002: the market state of continuous and block trading: participant
-- controls, instrument and market state (reference prices, halts, the
-- trading day), the trading calendar, daily bars, and block offers'
-- counterparties. Projections, written once per touched row per batch.

CREATE TABLE participant_controls (
  participant_id    BIGINT   PRIMARY KEY,
  self_trade        SMALLINT NOT NULL CHECK (self_trade BETWEEN 1 AND 3),
  suspended         BOOLEAN  NOT NULL,
  suspension_reason TEXT     NOT NULL,
  updated_sequence  BIGINT   NOT NULL
);

CREATE TABLE instrument_state (
  instrument          TEXT    PRIMARY KEY,
  reference_price_fen BIGINT  NOT NULL CHECK (reference_price_fen >= 0),
  previous_close_fen  BIGINT  NOT NULL CHECK (previous_close_fen >= 0),
  halted              BOOLEAN NOT NULL,
  halt_reason         TEXT    NOT NULL,
  updated_sequence    BIGINT  NOT NULL
);

-- One row: the trading day in progress and the market-wide halt.
CREATE TABLE market_state (
  singleton           BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  trading_date        TEXT    NOT NULL,
  day_opened_sequence BIGINT  NOT NULL,
  halted              BOOLEAN NOT NULL,
  halt_reason         TEXT    NOT NULL,
  updated_sequence    BIGINT  NOT NULL
);

-- The holidays of each calendar year, replaced as a whole.
CREATE TABLE trading_calendar (
  year             INTEGER PRIMARY KEY CHECK (year BETWEEN 2000 AND 2200),
  holidays         TEXT[]  NOT NULL,
  updated_sequence BIGINT  NOT NULL
);

-- Append-only: one bar per instrument, trading day and mode.
CREATE TABLE daily_bars (
  instrument   TEXT     NOT NULL,
  trading_date TEXT     NOT NULL,
  mode         SMALLINT NOT NULL,
  open_fen     BIGINT   NOT NULL,
  high_fen     BIGINT   NOT NULL,
  low_fen      BIGINT   NOT NULL,
  close_fen    BIGINT   NOT NULL,
  volume       BIGINT   NOT NULL CHECK (volume > 0),
  turnover_fen BIGINT   NOT NULL,
  trade_count  BIGINT   NOT NULL,
  sequence     BIGINT   NOT NULL,
  PRIMARY KEY (instrument, trading_date, mode)
);

ALTER TABLE orders ADD COLUMN counterparty_participant_id BIGINT NOT NULL DEFAULT 0;
