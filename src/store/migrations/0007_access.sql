-- 0007: API tokens (only their SHA-256 is stored) and the audit log of staff actions.

-- Every API token ever issued, revoked ones included; the secret is never stored.
CREATE TABLE api_tokens (
  token_id              BIGINT   PRIMARY KEY CHECK (token_id > 0),
  role                  SMALLINT NOT NULL CHECK (role BETWEEN 1 AND 5),
  participant_id        BIGINT   NOT NULL,
  label                 TEXT     NOT NULL,
  token_sha256          BYTEA    NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
  issued_at_unix_nanos  BIGINT   NOT NULL,
  expires_at_unix_nanos BIGINT   NOT NULL,
  revoked_at_unix_nanos BIGINT   NOT NULL,
  updated_sequence      BIGINT   NOT NULL
);

-- Append-only: one row per audited call (a staff action or a staff call the
-- authorization table refused), written in the transaction of its command.
CREATE TABLE audit_log (
  sequence               BIGINT   PRIMARY KEY CHECK (sequence > 0),
  recorded_at_unix_nanos BIGINT   NOT NULL,
  token_id               BIGINT   NOT NULL,
  role                   SMALLINT NOT NULL,
  principal              TEXT     NOT NULL,
  participant_id         BIGINT   NOT NULL,
  method                 TEXT     NOT NULL,
  peer                   TEXT     NOT NULL,
  request_summary        TEXT     NOT NULL,
  status_code            INTEGER  NOT NULL,
  status_message         TEXT     NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (recorded_at_unix_nanos, sequence);
