-- 0022: a repeated Freeze or Pledge answers the ledger entry of its first
-- use. The key's object_id is the freeze or the pledge, so the entry was not
-- kept, and a repeat answered 0. Keys from before this version get theirs
-- from the ledger: each Freeze or Pledge command appends exactly one entry
-- of its kind (8 freeze, 10 pledge) within the account, under its sequence.
ALTER TABLE registry_idempotency ADD COLUMN ledger_entry_id BIGINT NOT NULL DEFAULT 0;
UPDATE registry_idempotency k
   SET ledger_entry_id = l.entry_id
  FROM ledger_entries l
 WHERE k.command IN ('Freeze', 'Pledge')
   AND l.from_account_id = k.target  -- the key's target is the account (ledger_entries_from)
   AND l.sequence = k.sequence
   AND l.kind = CASE k.command WHEN 'Freeze' THEN 8 ELSE 10 END;
