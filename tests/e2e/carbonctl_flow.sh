#!/usr/bin/env bash
# The README's first trade, typed as a user would with carbonctl, against a
# real carbond on its embedded PostgreSQL. Also checks carbonctl's exit codes.
# Usage: carbonctl_flow.sh <carbond> <carbonctl>
set -euo pipefail
carbond=$1
carbonctl=$2

dir=$(mktemp -d /tmp/carbond-ctl-XXXXXX)
chmod 755 "$dir"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "---- carbond log ----" >&2
  cat "$dir/log" >&2 || true
  exit 1
}

"$carbond" --data-dir "$dir/data" --listen 127.0.0.1:0 --embedded-port 5497 --ready-file "$dir/ready" \
  --clock-start 2026-11-24T10:00:00+08:00 >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -s "$dir/ready" ] && break
  kill -0 "$pid" 2>/dev/null || fail "carbond exited during start"
  sleep 0.1
done
[ -s "$dir/ready" ] || fail "carbond not ready after 60 s"
export CARBON_SERVER=$(cat "$dir/ready")

ctl() { "$carbonctl" "$@"; }
staff() { local who=$1; shift; "$carbonctl" --staff-file "$dir/data/staff-tokens.toml" --as "$who" "$@"; }
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -1; }

ctl health | grep -q SERVING || fail "health is not SERVING"
set +e
unknown=$(ctl --json health --service carbon.v1.NoSuchService)
[ $? -eq 1 ] && echo "$unknown" | grep -q '"status":"SERVICE_UNKNOWN"' ||
  fail "health of an unknown service must print SERVICE_UNKNOWN and exit 1: $unknown"
set -e

seller=$(staff operator --json participant create --code KEU-001 --name "Guangdong Power" --type key-emitting-unit)
buyer=$(staff operator --json participant create --code INST-001 --name "Shanghai Bank" --type institution)
seller_token=$(echo "$seller" | field trader_token)
buyer_token=$(echo "$buyer" | field trader_token)
seller_holding=$(echo "$seller" | field holding_account_id)
buyer_cash=$(echo "$buyer" | field cash_account_id)
[ -n "$seller_token" ] && [ -n "$buyer_token" ] && [ -n "$seller_holding" ] && [ -n "$buyer_cash" ] ||
  fail "participant create did not print accounts and tokens: $seller / $buyer"

staff operator cash deposit --account "$buyer_cash" --amount-fen 100000000 --key wire-1 >/dev/null || fail "deposit"
staff registry registry cap set --year 2024 --sector power --cap 1000000 --paid-share-bps 1000 \
  --reason "plan 2024" >/dev/null || fail "cap set"
staff registry registry issue --instrument CEA2024 --account "$seller_holding" --quantity 50000 \
  --reason "2024 allocation" --key alloc-1 >/dev/null || fail "issue"
# Run again with its key (as after an UNAVAILABLE): the first issuance's answer, nothing issued twice.
staff registry --json registry issue --instrument CEA2024 --account "$seller_holding" --quantity 50000 \
  --reason "2024 allocation" --key alloc-1 | grep -q '"available":"50000"' || fail "issue retried with its key"
CARBON_TOKEN=$seller_token ctl order place --instrument CEA2024 --side sell --price-fen 9850 --quantity 1000 \
  >/dev/null || fail "sell"
buy=$(CARBON_TOKEN=$buyer_token ctl --json order place --instrument CEA2024 --side buy --price-fen 9900 --quantity 1000) ||
  fail "buy"
echo "$buy" | grep -q '"ORDER_STATUS_FILLED"' || fail "the buy did not fill: $buy"
balances=$(CARBON_TOKEN=$buyer_token ctl --json balances) || fail "balances"
[ "$(echo "$balances" | field pending)" = "1000" ] || fail "buyer does not hold 1000 t pending: $balances"
[ "$(echo "$balances" | field available_fen)" = "90150000" ] || fail "buyer cash is wrong: $balances"
CARBON_TOKEN=$buyer_token ctl trades | grep -q "98.50" || fail "trades do not show the 98.50 CNY fill"
# The market data streams: the day's trade replayed, then a book snapshot; --count ends them, exit 0.
watched=$(CARBON_TOKEN=$buyer_token ctl watch trades --instrument CEA2024 --after-sequence 1 --count 1) ||
  fail "watch trades"
echo "$watched" | grep -q "1,000 t @ 98.50" || fail "watch trades does not show the fill: $watched"
staff regulator watch depth CEA2024 --count 1 | grep -q "listed order book" || fail "watch depth"
early=$(staff regulator audit --from-unix-nanos 1 --to-unix-nanos 2) || fail "audit --from/--to-unix-nanos"
echo "$early" | grep -q "wire-1" && fail "audit --to-unix-nanos 2 must leave out today's records: $early"
staff regulator audit --from-unix-nanos 1 | grep -q "wire-1" || fail "audit --from-unix-nanos 1 must show the deposit"
# Paged lists: a second resting sell, then the seller's two orders one page at a time and with --all.
CARBON_TOKEN=$seller_token ctl order place --instrument CEA2024 --side sell --price-fen 9950 --quantity 10 \
  >/dev/null || fail "second sell"
page=$(CARBON_TOKEN=$seller_token ctl --json order list --page-size 1) || fail "order list --page-size 1"
token=$(echo "$page" | field next_page_token)
[ -n "$token" ] || fail "one order per page should leave a next page: $page"
CARBON_TOKEN=$seller_token ctl order list --page-size 1 | grep -q -- "--page-token" ||
  fail "order list does not say how to get the next page"
last=$(CARBON_TOKEN=$seller_token ctl --json order list --page-size 1 --page-token "$token") || fail "second page"
echo "$last" | grep -q '"ORDER_STATUS_NEW"' && [ -z "$(echo "$last" | field next_page_token)" ] ||
  fail "the second page should hold the open sell and end the list: $last"
[ "$(CARBON_TOKEN=$seller_token ctl --json order list --page-size 1 --all | grep -o '"order_id"' | wc -l)" = "2" ] ||
  fail "order list --all does not list both orders"
# The seller's execution reports as an order session replays them: its sell accepted, then filled.
reports=$(CARBON_TOKEN=$seller_token ctl reports --after-sequence 1) || fail "reports"
echo "$reports" | grep -q "accepted" && echo "$reports" | grep "fill" | grep -q "1,000 t @ 98.50" ||
  fail "reports do not show the sell accepted and filled: $reports"
CARBON_TOKEN=$seller_token ctl --json reports --after-sequence 1 | grep -q '"EXECUTION_TYPE_FILL"' ||
  fail "reports --json does not hold the fill"

# The operator's market commands: halt and resume, amend, the calendar.
staff operator market halt --instrument CEA2024 --reason "disclosure pending" >/dev/null || fail "halt"
staff auditor market instruments | grep -q "halted: disclosure pending" || fail "instruments do not show the halt"
set +e
CARBON_TOKEN=$seller_token ctl order place --instrument CEA2024 --side sell --price-fen 9850 --quantity 10 2>"$dir/err"
[ $? -eq 5 ] && grep -q "instrument halted" "$dir/err" || fail "a halted instrument must refuse orders, exit 5"
set -e
staff operator market resume --instrument CEA2024 >/dev/null || fail "resume"
# Participant controls: each flag changes its own setting and leaves the rest as it was.
seller_id=$(echo "$seller" | field participant_id)
staff operator participant controls "$seller_id" --self-trade cancel-both | grep -q "cancel_both, trading" ||
  fail "controls --self-trade"
staff operator participant controls "$seller_id" --suspend --reason "margin call" |
  grep -q "cancel_both, suspended: margin call" || fail "controls --suspend must keep the self-trade setting"
staff operator participant controls "$seller_id" --self-trade cancel-resting |
  grep -q "cancel_resting, suspended: margin call" || fail "controls --self-trade must keep the suspension"
staff operator participant controls "$seller_id" --resume | grep -q "cancel_resting, trading" ||
  fail "controls --resume"
rest=$(CARBON_TOKEN=$seller_token ctl --json order place --instrument CEA2024 --side sell --price-fen 10500 --quantity 100) ||
  fail "resting sell"
rest_id=$(echo "$rest" | field order_id)
CARBON_TOKEN=$seller_token ctl order amend "$rest_id" --quantity 60 | grep -q "time priority kept" ||
  fail "a reduction must keep time priority"
staff operator market calendar 2026 --set 2026-12-31 | grep -q "holidays: 2026-12-31" || fail "calendar set"
set +e
staff operator market end-of-day 2026-11-24 2>"$dir/err"
[ $? -eq 5 ] && grep -q "end at 15:00" "$dir/err" || fail "end of day during the session must exit 5"
set -e

# CCER: a methodology, a project owned by the bank, an issuance, a retirement, the blocks left, the public list.
staff registry ccer methodology register --code CCER-14-001-V01 --name "Afforestation carbon sink" --version V01 \
  --field forestry >/dev/null || fail "ccer methodology register"
buyer_id=$(echo "$buyer" | field participant_id)
buyer_holding=$(echo "$buyer" | field holding_account_id)
staff registry ccer project register --code P-2026-0001 --name "Hilltop forest" --methodology CCER-14-001-V01 \
  --owner "$buyer_id" --validation-body CQC --validation-report VAL-17 --crediting-start 2024-01-01 \
  --crediting-end 2033-12-31 >/dev/null || fail "ccer project register"
staff registry ccer issue --project 1 --vintage 2024 --quantity 1000 --monitoring-start 2024-01-01 \
  --monitoring-end 2024-12-31 --verifier CEC --report VER-1 --key iss-1 | grep -qw "1-1000" || fail "ccer issue"
CARBON_TOKEN=$buyer_token ctl ccer retire --quantity 100 --beneficiary "Shanghai Marathon" --purpose "event offset" \
  --key ret-1 | grep -qw "1-100" || fail "ccer retire"
CARBON_TOKEN=$buyer_token ctl ccer blocks --account "$buyer_holding" | grep -qw "101-1000" || fail "ccer blocks"
CARBON_TOKEN=$seller_token ctl ccer retirements | grep -q "Shanghai Marathon" || fail "retirements are public"
CARBON_TOKEN=$seller_token ctl --json ccer project list | grep -q '"issued_quantity": *"1000"' || fail "ccer project list"

# Clearing: a live reconciliation balances (exit 0), no alerts yet, and no
# statement before the first end of day (exit 5, NOT_FOUND).
staff operator reconciliation | grep -q ": BALANCED$" || fail "reconciliation is not balanced"
staff regulator alerts | grep -q "no alerts" || fail "alerts"
set +e
CARBON_TOKEN=$buyer_token ctl statement 2>"$dir/err"
[ $? -eq 5 ] && grep -q "NOT_FOUND" "$dir/err" || fail "a statement before any end of day must exit 5 NOT_FOUND"
set -e

# Access: a second trader token, revoked; the audit log of what the staff did.
desk=$(staff operator --json token issue --role trader --participant "$buyer_id" --label "desk 2") || fail "token issue"
desk_token=$(echo "$desk" | field token)
desk_id=$(echo "$desk" | field token_id)
CARBON_TOKEN=$desk_token ctl balances >/dev/null || fail "an issued token must work"
staff operator token list | grep -q "desk 2" || fail "token list does not show the new token"
# Ids are read as decimal only (base-0 parsing would take 0x7 as 7 and 010 as 8): exit 2, nothing revoked.
set +e
staff operator token revoke "0x$desk_id" 2>"$dir/err"
[ $? -eq 2 ] && grep -q "is not a decimal integer" "$dir/err" || fail "token revoke 0x<id> must exit 2"
set -e
CARBON_TOKEN=$desk_token ctl balances >/dev/null || fail "a refused revoke must leave the token working"
staff operator token revoke "0$desk_id" >/dev/null || fail "token revoke (decimal, a leading zero)"
set +e
CARBON_TOKEN=$desk_token ctl balances 2>"$dir/err"
[ $? -eq 4 ] && grep -q "UNAUTHENTICATED" "$dir/err" || fail "a revoked token must exit 4 UNAUTHENTICATED"
set -e
staff regulator audit --method /carbon.v1.AdminService/Deposit | grep -q "wire-1" || fail "audit does not show the deposit"
staff auditor audit --failures | grep -q "FAILED_PRECONDITION" || fail "audit does not show the refused end of day"
# The audit log's hash chain: valid, its last hash the newest record's (as audit --hashes prints it); a
# reversed range is refused (exit 5).
verified=$(staff auditor regulator verify-audit) || fail "verify-audit: $verified"
echo "$verified" | grep -q "valid: *yes" || fail "verify-audit is not valid: $verified"
last_hash=$(echo "$verified" | sed -n 's/^last hash: *\([0-9a-f]\{64\}\)$/\1/p')
[ -n "$last_hash" ] || fail "verify-audit printed no last hash: $verified"
listed=$(staff auditor audit --hashes --limit 1000) || fail "audit --hashes"
echo "$listed" | grep -q "$last_hash" || fail "audit --hashes does not show $last_hash"
set +e
staff auditor regulator verify-audit --from-id 9 --to-id 2 2>"$dir/err"
[ $? -eq 5 ] && grep -q "INVALID_ARGUMENT" "$dir/err" || fail "verify-audit --from-id 9 --to-id 2 must exit 5"
set -e

# Auctions: the seller's units offered, a sealed bid, a close refused before the window ends, a cancel.
auction=$(staff operator --json auction create --instrument CEA2024 --seller-account "$seller_holding" \
  --quantity 1000 --reserve-price-fen 9000 --bid-lot 100 --max-bidder-share-bps 5000 \
  --opens 2026-11-24T09:00 --closes 2026-11-24T14:00 --description "flow lot" --key flow-auction-1) ||
  fail "auction create"
auction_id=$(echo "$auction" | field auction_id)
CARBON_TOKEN=$buyer_token ctl auction bid --auction "$auction_id" --price-fen 9500 --quantity 500 >/dev/null ||
  fail "auction bid"
CARBON_TOKEN=$buyer_token ctl auction bids | grep -q "95.00" || fail "auction bids does not show the bid"
CARBON_TOKEN=$seller_token ctl auction list --status open | grep -q "sealed" || fail "auction list is not sealed"
set +e
staff operator auction close --auction "$auction_id" 2>"$dir/err"
[ $? -eq 5 ] && grep -q "auction window" "$dir/err" || fail "closing before the window ends must exit 5"
set -e
staff operator auction cancel --auction "$auction_id" --reason "flow test" | grep -q cancelled ||
  fail "auction cancel"

# Instruments at run time and an operator's view of balances.
staff operator instrument create --code CEA2026 --market compliance --vintage 2026 --reference-fen 9000 --gtc \
  --listed "band-bps=500,max=5000,sessions=09:30-11:30+13:00-15:00" | grep -q "GTC yes" || fail "instrument create"
CARBON_TOKEN=$buyer_token ctl instrument show CEA2026 | grep -q "09:30-11:30 13:00-15:00" || fail "instrument show"
staff operator instrument rules CEA2026 --listed "band-bps=500" --auction "enabled=no,buy-fee-bps=25" |
  grep -Eq "^ *auction +no .* 25 bps" || fail "instrument rules --auction"
set +e
staff operator auction create --instrument CEA2026 --seller-account "$seller_holding" --quantity 100 \
  --reserve-price-fen 9000 --bid-lot 100 --opens 2026-11-24T09:00 --closes 2026-11-24T14:00 --key flow-auction-2 \
  2>"$dir/err"
[ $? -eq 5 ] && grep -q "single-side auctions are not enabled for CEA2026" "$dir/err" ||
  fail "an auction of an instrument with auctions disabled must exit 5"
staff operator instrument rules CEA2026 --auction "enabled=yes,band-bps=100" 2>"$dir/err"
[ $? -eq 5 ] && grep -q "only enabled and the fees apply to auctions" "$dir/err" || fail "an auction band must exit 5"
set -e
staff operator instrument rules CEA2026 --listed "band-bps=500,max=100" >/dev/null || fail "instrument rules"
set +e
CARBON_TOKEN=$buyer_token ctl order place --instrument CEA2026 --side buy --price-fen 9000 --quantity 200 2>"$dir/err"
[ $? -eq 5 ] && grep -q "listed maximum of 100 t" "$dir/err" || fail "the new rules must refuse 200 t, exit 5"
staff operator instrument create --code CEA2026 --market compliance --vintage 2026 2>"$dir/err"
[ $? -eq 5 ] && grep -q "already in use" "$dir/err" || fail "a code in use must exit 5"
CARBON_TOKEN=$buyer_token ctl participant balances "$buyer_id" 2>/dev/null
[ $? -eq 4 ] || fail "a trader reading balances with participant balances must exit 4"
set -e
staff auditor --json participant balances "$buyer_id" | grep -q '"pending": *"1000"' || fail "participant balances"

# Exit codes: 5 the server refused, 3 unreachable, 4 no token or not allowed.
set +e
CARBON_TOKEN=$buyer_token ctl order place --instrument CEA2024 --side sell --price-fen 9850 --quantity 1 2>/dev/null
[ $? -eq 5 ] || fail "selling units bought today must exit 5"
env -u CARBON_TOKEN "$carbonctl" balances 2>/dev/null
[ $? -eq 4 ] || fail "no token must exit 4"
CARBON_TOKEN=$buyer_token ctl market halt --reason "not mine to halt" 2>"$dir/err"
[ $? -eq 4 ] && grep -q PERMISSION_DENIED "$dir/err" || fail "a trader halting the market must exit 4"
CARBON_TOKEN=x "$carbonctl" --server 127.0.0.1:1 --timeout 2 balances 2>/dev/null
[ $? -eq 3 ] || fail "an unreachable server must exit 3"
set -e

kill -TERM "$pid"
wait "$pid" || fail "carbond did not exit 0 on SIGTERM"
pid=
echo "carbonctl flow: 1 trade, balances, halt/resume, amend, calendar, CCER, reconciliation, an auction, instruments and exit codes as documented"
