-- 0017: the auction trades, indexed. The engine lets go of a trading day's
-- trades at its end, but keeps every auction's (a repeated CloseAuction
-- answers them), so a start reads the trades from the day's opening on plus
-- the auction trades of earlier days: this partial index finds those without
-- a scan of every trade. Only auction trades enter it.
CREATE INDEX trades_auction ON trades (trade_id) WHERE mode = 3;
