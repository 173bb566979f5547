-- 0024: the audit log is hash-chained, as the ledger is. Each record keeps
-- prev_hash, the record_hash of the record before it (by audit_id; 32 zero
-- bytes for the first), and record_hash = SHA-256(prev_hash ||
-- audit_log_canonical(record)). So a record changed or removed in place
-- (with the append-only trigger of 0023 dropped) no longer links, unless
-- every later hash is computed again; and a hash a regulator kept from
-- VerifyAuditLog or QueryAuditLog shows any change made before it, whoever
-- made it.
--
-- The database computes the hashes, in a trigger, because it draws audit_id
-- and two writers insert (the journal writer, with a command's effects; the
-- audit writer, for reads): both take audit_log_writers' lock first
-- (migration 0015), so the record with the highest audit_id is committed and
-- is the one to link to. The trigger takes that lock too, so an insert that
-- skipped it waits all the same, and it refuses what could fork or stop the
-- chain: a transaction other than READ COMMITTED (its snapshot, taken before
-- the lock, may not show the last record committed; carbond's connections
-- set default_transaction_isolation), and an audit_id that is not above
-- every other or that the id sequence never drew (one far above would make
-- every later id refused). carbond's VerifyAuditLog recomputes every hash
-- with its own encoder (src/store/audit_reader.cpp), not with this function.
--
-- Canonical bytes, version 1: the byte 1, then audit_id, sequence,
-- recorded_at_unix_nanos, token_id and role, each as 8 bytes big-endian
-- (two's complement), principal, participant_id (8 bytes), method, peer,
-- request_summary, status_code (8 bytes), status_message; each text as its
-- UTF-8 length in 4 bytes big-endian followed by its UTF-8 bytes.
CREATE FUNCTION audit_log_text(value TEXT) RETURNS BYTEA LANGUAGE sql STABLE STRICT AS $$
  SELECT int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8')
$$;

ALTER TABLE audit_log ADD COLUMN prev_hash BYTEA, ADD COLUMN record_hash BYTEA;

CREATE FUNCTION audit_log_canonical(r audit_log) RETURNS BYTEA LANGUAGE sql STABLE STRICT AS $$
  SELECT '\x01'::bytea || int8send(r.audit_id) || int8send(r.sequence) || int8send(r.recorded_at_unix_nanos)
         || int8send(r.token_id) || int8send(r.role::bigint) || audit_log_text(r.principal)
         || int8send(r.participant_id) || audit_log_text(r.method) || audit_log_text(r.peer)
         || audit_log_text(r.request_summary) || int8send(r.status_code::bigint) || audit_log_text(r.status_message)
$$;

-- The records written before this migration, chained once in audit_id order: the one change 0023's trigger
-- lets through, by the schema's owner, in the migration's own transaction.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete;
DO $$
DECLARE
  r audit_log;
  previous BYTEA := decode(repeat('00', 32), 'hex');
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY audit_id LOOP
    UPDATE audit_log SET prev_hash = previous, record_hash = sha256(previous || audit_log_canonical(r))
      WHERE audit_id = r.audit_id RETURNING record_hash INTO previous;
  END LOOP;
END
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN record_hash SET NOT NULL,
  ADD CONSTRAINT audit_log_hash_size CHECK (octet_length(prev_hash) = 32 AND octet_length(record_hash) = 32);

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_id BIGINT;
  previous BYTEA;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_log is a hash chain: records are inserted under READ COMMITTED, not %',
      upper(current_setting('transaction_isolation')) USING ERRCODE = 'invalid_transaction_state';
  END IF;
  LOCK TABLE audit_log_writers IN EXCLUSIVE MODE;
  SELECT audit_id, record_hash INTO last_id, previous FROM audit_log ORDER BY audit_id DESC LIMIT 1;
  IF last_id IS NOT NULL AND NEW.audit_id <= last_id THEN
    RAISE EXCEPTION 'audit_log is a hash chain: record % would not follow record %', NEW.audit_id, last_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.audit_id > (SELECT last_value FROM audit_log_audit_id_seq) THEN
    RAISE EXCEPTION 'audit_log is a hash chain: record % is above the last audit id drawn', NEW.audit_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  NEW.prev_hash := COALESCE(previous, decode(repeat('00', 32), 'hex'));
  NEW.record_hash := sha256(NEW.prev_hash || audit_log_canonical(NEW));
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
