-- 0023: the audit log is append-only. carbond only ever inserts into it;
-- a trigger now refuses UPDATE, DELETE and TRUNCATE, whoever asks, so a
-- record cannot be changed or removed by a statement, by mistake or by a
-- compromised client of this database. (The table's owner can still drop
-- the trigger: that is DDL, which PostgreSQL's log_statement = 'ddl'
-- records.)
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
