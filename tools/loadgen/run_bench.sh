#!/usr/bin/env bash
# The end-to-end benchmark of BENCHMARKS.md: starts a carbond (embedded
# PostgreSQL in a temporary data directory, clock in the morning session),
# runs carbon_loadgen's series against it, each beside the echo ceiling
# measured in the same run, and stops it. Usage (from the checkout, after
# scripts/build.sh carbond carbon_loadgen; take the build lock on a shared
# machine):  tools/loadgen/run_bench.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
build=${CARBON_BUILD_DIR:-build}
dir=$(mktemp -d /tmp/carbond-bench.XXXXXX)
chmod 755 "$dir"
cat >"$dir/carbond.toml" <<TOML
[server]
log_level = "info"
[engine]
clock_start = "2026-11-24T09:45:00+08:00"
TOML
"$build/src/server/carbond" --config "$dir/carbond.toml" --data-dir "$dir/data" --listen 127.0.0.1:0 \
  --metrics-listen 127.0.0.1:0 --ready-file "$dir/ready" >"$dir/carbond.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do [[ -s "$dir/ready" ]] && break; sleep 0.2; done
address=$(head -1 "$dir/ready")
load=("$build/tools/loadgen/carbon_loadgen" --address "$address" --staff-file "$dir/data/staff-tokens.toml" --seconds "$seconds")
echo "== machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== one order per message, one session, closed loop (window 256)"
"${load[@]}" --sessions 1 --batch 1 --window 256 --echo-ceiling
echo "== one order per message, 4 sessions, closed loop (window 256)"
"${load[@]}" --sessions 4 --batch 1 --window 256 --echo-ceiling
echo "== 100 orders per message, 4 sessions, closed loop (window 8)"
if [[ -n "${PERF_OUT:-}" ]]; then
  # Profile the whole machine during the carbond part of this run (after the echo ceiling's seconds).
  (sleep $((seconds + 2)); perf record -a -g -o "$PERF_OUT" -- sleep $((seconds - 2)) >/dev/null 2>&1) &
  perf_pid=$!
fi
"${load[@]}" --sessions 4 --batch 100 --window 8 --echo-ceiling
[[ -n "${perf_pid:-}" ]] && wait "$perf_pid"
echo "== open loop: one order per message, one session, offered 10,000 orders/s"
"${load[@]}" --sessions 1 --batch 1 --rate 10000
echo "== open loop: 100 orders per message, 4 sessions, offered 50,000 orders/s"
"${load[@]}" --sessions 4 --batch 100 --rate 50000
grep -E '^carbond_(commit_batch_commands|commit_latency_seconds)_(sum|count)|^carbond_commands_total\{kind="PlaceOrder"\}' \
  <(curl -s "http://$(grep -o 'metrics on http://[^/]*' "$dir/carbond.log" | cut -d/ -f3)/metrics" 2>/dev/null || true) || true
