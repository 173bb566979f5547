-- 0009: instruments created or changed at run time (AdminService.CreateInstrument,
-- UpdateInstrumentRules). One row per instrument with its whole definition
-- (code, market, vintage, tick, lot, mode rules with sessions and fees, GTC,
-- eligibility, position limit) as JSONB; restored over the configured
-- instruments at start. Its state (reference price, halt) stays in instrument_state.
CREATE TABLE instrument_definitions (
  instrument       TEXT   PRIMARY KEY,
  definition       JSONB  NOT NULL,
  created_sequence BIGINT NOT NULL CHECK (created_sequence > 0),
  updated_sequence BIGINT NOT NULL CHECK (updated_sequence >= created_sequence)
);
