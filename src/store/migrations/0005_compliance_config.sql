-- 0005: compliance-year parameters (ConfigureComplianceYear) and pledges,
-- active and closed. Written in the same transaction as the journal rows of
-- the command that changed them.

CREATE TABLE compliance_years (
  compliance_year             INTEGER PRIMARY KEY,
  deadline_unix_nanos         BIGINT  NOT NULL CHECK (deadline_unix_nanos > 0),
  ccer_limit_bps              BIGINT  NOT NULL CHECK (ccer_limit_bps BETWEEN 0 AND 10000),
  penalty_multiple            INTEGER NOT NULL CHECK (penalty_multiple BETWEEN 5 AND 10),
  early_warning_threshold_bps BIGINT  NOT NULL CHECK (early_warning_threshold_bps BETWEEN 0 AND 10000),
  updated_sequence            BIGINT  NOT NULL
);

-- Pledges: remaining > 0 while active; closed_at > 0 once nothing remains
-- (last_enforced tells a release from an enforcement).
CREATE TABLE pledges (
  pledge_id                BIGINT  PRIMARY KEY,
  pledgor_account_id       BIGINT  NOT NULL,
  pledgee_account_id       BIGINT  NOT NULL,
  pledgor_participant_id   BIGINT  NOT NULL,
  pledgee_participant_id   BIGINT  NOT NULL,
  instrument               TEXT    NOT NULL,
  quantity                 BIGINT  NOT NULL CHECK (quantity > 0),
  released_quantity        BIGINT  NOT NULL CHECK (released_quantity >= 0),
  enforced_quantity        BIGINT  NOT NULL CHECK (enforced_quantity >= 0),
  remaining_quantity       BIGINT  NOT NULL CHECK (remaining_quantity >= 0),
  contract_reference       TEXT    NOT NULL,
  last_enforced            BOOLEAN NOT NULL,
  pledged_at_unix_nanos    BIGINT  NOT NULL,
  closed_at_unix_nanos     BIGINT  NOT NULL,
  updated_sequence         BIGINT  NOT NULL,
  CHECK (released_quantity + enforced_quantity + remaining_quantity = quantity)
);
CREATE INDEX pledges_by_pledgor ON pledges (pledgor_participant_id);
CREATE INDEX pledges_by_pledgee ON pledges (pledgee_participant_id);
