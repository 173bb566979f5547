-- 0021: the proceeds an open buy holds settle at the end of day.
-- A buy's reservation records how much of it came from unsettled sale
-- proceeds (reserved_unsettled_fen) and returns that much to unsettled when
-- released. Until this version the end of day made every account's proceeds
-- withdrawable but left that amount on open buys (GTC orders, auction bids),
-- so a cancel on a later day put day-old proceeds back into unsettled. The
-- end of day now zeroes it (journaled as OrderChanged). This repairs what
-- earlier ends of day left: an open order not changed since the day in
-- progress opened holds no proceeds of that day. (One changed since, by a
-- fill, may still hold some of an earlier day's; nothing tells them apart,
-- and the next end of day settles them.)
UPDATE orders SET reserved_unsettled_fen = 0
 WHERE status IN (1, 2)
   AND reserved_unsettled_fen > 0
   AND updated_sequence <= (SELECT day_opened_sequence FROM market_state);
