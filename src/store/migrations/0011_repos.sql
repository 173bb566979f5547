-- 0011: repos (RegisterRepo), open and closed. The units of an open repo are
-- reserved in the buyer's holding; end of day on or after second_leg_date
-- completes or defaults it. Written in the same transaction as the journal
-- rows of the command that changed it.

CREATE TABLE repos (
  repo_id                    BIGINT   PRIMARY KEY CHECK (repo_id > 0),
  seller_participant_id      BIGINT   NOT NULL,
  buyer_participant_id       BIGINT   NOT NULL,
  seller_account_id          BIGINT   NOT NULL,
  buyer_account_id           BIGINT   NOT NULL,
  seller_cash_account_id     BIGINT   NOT NULL,
  buyer_cash_account_id      BIGINT   NOT NULL,
  instrument                 TEXT     NOT NULL,
  quantity                   BIGINT   NOT NULL CHECK (quantity > 0),
  first_leg_price_fen        BIGINT   NOT NULL CHECK (first_leg_price_fen > 0),
  second_leg_price_fen       BIGINT   NOT NULL CHECK (second_leg_price_fen > 0),
  second_leg_date            TEXT     NOT NULL,
  contract_reference         TEXT     NOT NULL,
  status                     SMALLINT NOT NULL CHECK (status BETWEEN 1 AND 3),
  first_leg_ledger_entry_id  BIGINT   NOT NULL,
  second_leg_ledger_entry_id BIGINT   NOT NULL,
  opened_at_unix_nanos       BIGINT   NOT NULL,
  closed_at_unix_nanos       BIGINT   NOT NULL,
  opened_sequence            BIGINT   NOT NULL,
  updated_sequence           BIGINT   NOT NULL,
  CHECK (seller_participant_id <> buyer_participant_id)
);
CREATE INDEX repos_by_seller ON repos (seller_participant_id);
CREATE INDEX repos_by_buyer ON repos (buyer_participant_id);
