-- 0012: staff reads in the audit log. A read has no journal sequence (it
-- changes nothing), so records get their own id, audit_id, drawn in the order
-- they are written (by the journal writer, in the transaction of a command,
-- or by the audit writer, before a read is answered); sequence is 0 for a
-- read and stays unique for commands. Records written before this migration
-- keep their sequence as audit_id.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_sequence_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_sequence_check CHECK (sequence >= 0);
CREATE UNIQUE INDEX audit_log_by_sequence ON audit_log (sequence) WHERE sequence > 0;
CREATE SEQUENCE audit_log_audit_id_seq;
ALTER TABLE audit_log ADD COLUMN audit_id BIGINT;
UPDATE audit_log SET audit_id = sequence;
SELECT setval('audit_log_audit_id_seq', COALESCE(max(audit_id), 0) + 1, false) FROM audit_log;
ALTER TABLE audit_log ALTER COLUMN audit_id SET DEFAULT nextval('audit_log_audit_id_seq');
ALTER TABLE audit_log ALTER COLUMN audit_id SET NOT NULL;
ALTER TABLE audit_log ADD PRIMARY KEY (audit_id);
ALTER SEQUENCE audit_log_audit_id_seq OWNED BY audit_log.audit_id;
