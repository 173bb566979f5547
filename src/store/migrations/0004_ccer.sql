-- 0004: CCER: methodologies, projects, issuances, the serial blocks each
-- holding account holds (first in first, rewritten whole for every account a
-- batch touches: issuance, trade delivery, transfer, surrender, retirement)
-- and public retirements with their serials. Written in the same transaction
-- as the journal rows of the command that changed them.

CREATE TABLE ccer_methodologies (
  code                     TEXT    PRIMARY KEY,
  name                     TEXT    NOT NULL,
  version                  TEXT    NOT NULL,
  field                    TEXT    NOT NULL,
  document_reference       TEXT    NOT NULL,
  registered_at_unix_nanos BIGINT  NOT NULL,
  sequence                 BIGINT  NOT NULL
);

CREATE TABLE ccer_projects (
  project_id                  BIGINT   PRIMARY KEY,
  project_code                TEXT     NOT NULL UNIQUE,
  name                        TEXT     NOT NULL,
  methodology_code            TEXT     NOT NULL REFERENCES ccer_methodologies (code),
  owner_participant_id        BIGINT   NOT NULL,
  holding_account_id          BIGINT   NOT NULL,
  location                    TEXT     NOT NULL,
  validation_body             TEXT     NOT NULL,
  validation_report_reference TEXT     NOT NULL,
  public_notice_reference     TEXT     NOT NULL,
  crediting_start_date        TEXT     NOT NULL,
  crediting_end_date          TEXT     NOT NULL,
  status                      SMALLINT NOT NULL,
  issued_quantity             BIGINT   NOT NULL CHECK (issued_quantity >= 0),
  registered_at_unix_nanos    BIGINT   NOT NULL,
  updated_sequence            BIGINT   NOT NULL
);

-- Append-only: one row per IssueCcerCredits.
CREATE TABLE ccer_issuances (
  issuance_id                   BIGINT  PRIMARY KEY,
  project_id                    BIGINT  NOT NULL REFERENCES ccer_projects (project_id),
  vintage_year                  INTEGER NOT NULL,
  serial_start                  BIGINT  NOT NULL,
  serial_end                    BIGINT  NOT NULL CHECK (serial_end >= serial_start),
  holding_account_id            BIGINT  NOT NULL,
  monitoring_start_date         TEXT    NOT NULL,
  monitoring_end_date           TEXT    NOT NULL,
  verification_body             TEXT    NOT NULL,
  verification_report_reference TEXT    NOT NULL,
  ledger_entry_id               BIGINT  NOT NULL,
  issued_at_unix_nanos          BIGINT  NOT NULL,
  sequence                      BIGINT  NOT NULL
);

-- The blocks one account holds, position 0 first (the next to leave).
CREATE TABLE ccer_blocks (
  holding_account_id BIGINT  NOT NULL,
  position           INTEGER NOT NULL,
  serial_start       BIGINT  NOT NULL,
  serial_end         BIGINT  NOT NULL CHECK (serial_end >= serial_start),
  project_id         BIGINT  NOT NULL,
  vintage_year       INTEGER NOT NULL,
  updated_sequence   BIGINT  NOT NULL,
  PRIMARY KEY (holding_account_id, position)
);

-- Append-only and public: one row per RetireUnits, its serials in retirement_blocks.
CREATE TABLE retirements (
  retirement_id          BIGINT PRIMARY KEY,
  participant_id         BIGINT NOT NULL,
  holding_account_id     BIGINT NOT NULL,
  instrument             TEXT   NOT NULL,
  quantity               BIGINT NOT NULL CHECK (quantity > 0),
  beneficiary            TEXT   NOT NULL,
  purpose                TEXT   NOT NULL,
  ledger_entry_id        BIGINT NOT NULL,
  retired_at_unix_nanos  BIGINT NOT NULL,
  sequence               BIGINT NOT NULL
);

CREATE TABLE retirement_blocks (
  retirement_id BIGINT  NOT NULL REFERENCES retirements (retirement_id),
  position      INTEGER NOT NULL,
  serial_start  BIGINT  NOT NULL,
  serial_end    BIGINT  NOT NULL CHECK (serial_end >= serial_start),
  project_id    BIGINT  NOT NULL,
  vintage_year  INTEGER NOT NULL,
  PRIMARY KEY (retirement_id, position)
);
