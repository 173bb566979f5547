-- 0018: the units issued to each holding account, indexed. A start sums the
-- issuance and allocation entries (kinds 1 and 3) per account and instrument,
-- for the position limits of key emitting units; without this partial index
-- that sum scanned every ledger entry (0.8 s for 10 million, most of them
-- trades' transfers). Only issuance and allocation entries enter it.
CREATE INDEX ledger_entries_issued ON ledger_entries (to_account_id, instrument) INCLUDE (quantity)
  WHERE kind IN (1, 3);
