-- 0010: single-side auctions (trading mode 3). Each auction is one row,
-- rewritten in the batch that changed it (created, a bid entered, cleared,
-- cancelled); the record as JSONB next to the columns it is looked up by.
-- Bids and the seller's offer are rows of `orders` (mode 3); the auction
-- record lists their ids. The proceeds of auctions sold from the reserve or
-- the auction account go to system cash account 11 (a cash_accounts row
-- with participant_id 0, like the fee account 10).
CREATE TABLE auctions (
  auction_id       BIGINT   PRIMARY KEY CHECK (auction_id > 0),
  instrument       TEXT     NOT NULL,
  status           SMALLINT NOT NULL CHECK (status IN (1, 4, 5)),
  idempotency_key  TEXT     NOT NULL UNIQUE,
  offer_order_id   BIGINT   NOT NULL,
  updated_sequence BIGINT   NOT NULL,
  auction          JSONB    NOT NULL
);
CREATE INDEX auctions_instrument ON auctions (instrument, auction_id);
