-- 0006: clearing. Trading fees on each trade side (paid into the exchange's
-- fee cash account, a cash_accounts row with participant_id 0), and the
-- reconciliation results of each end of day.

ALTER TABLE trades
  ADD COLUMN buyer_fee_fen  BIGINT NOT NULL DEFAULT 0 CHECK (buyer_fee_fen >= 0),
  ADD COLUMN seller_fee_fen BIGINT NOT NULL DEFAULT 0 CHECK (seller_fee_fen >= 0);

-- The conservation check of each end of day (AdminService.GetReconciliation
-- with a trading_date); the report as written, JSONB.
CREATE TABLE reconciliations (
  trading_date TEXT    PRIMARY KEY,
  balanced     BOOLEAN NOT NULL,
  sequence     BIGINT  NOT NULL,
  report       JSONB   NOT NULL
);

-- Surveillance alerts (RegulatorService.ListSurveillanceAlerts), append-only.
CREATE TABLE surveillance_alerts (
  alert_id               BIGINT   PRIMARY KEY,
  alert_type             SMALLINT NOT NULL,
  severity               SMALLINT NOT NULL,
  instrument             TEXT     NOT NULL,
  detected_at_unix_nanos BIGINT   NOT NULL,
  sequence               BIGINT   NOT NULL,
  alert                  JSONB    NOT NULL
);

-- Settlement statements, one per participant and trading day, written by
-- end of day (TradingService.GetStatement).
CREATE TABLE statements (
  trading_date   TEXT   NOT NULL,
  participant_id BIGINT NOT NULL,
  sequence       BIGINT NOT NULL,
  statement      JSONB  NOT NULL,
  PRIMARY KEY (trading_date, participant_id)
);
