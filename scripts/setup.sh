#!/usr/bin/env bash
# The first set-up command: installs what is missing (Debian 12, as root),
# builds carbond and carbonctl, and starts an exchange in the foreground on
# the embedded default (carbond initdb's and runs its own PostgreSQL under
# the data directory). Ctrl-C stops it cleanly.
#
#   CARBON_DATA_DIR  data directory (default /var/lib/carbond)
#   CARBON_LISTEN    gRPC address   (default 127.0.0.1:50051)
#   CARBON_CLOCK_START  run the engine's clock from this instant, e.g.
#                    2026-11-24T10:00:00+08:00, to try trading outside the
#                    real sessions (default: the system clock)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh carbond carbonctl
data_dir=${CARBON_DATA_DIR:-/var/lib/carbond}
listen=${CARBON_LISTEN:-127.0.0.1:50051}
echo
echo "carbond is starting on ${listen} with its data in ${data_dir}."
echo "Staff tokens (operator, registry, regulator, auditor): ${data_dir}/staff-tokens.toml"
echo "Try, from another terminal:"
echo "  build/tools/carbonctl/carbonctl --staff-file ${data_dir}/staff-tokens.toml --as operator participant list"
echo
args=(--data-dir "$data_dir" --listen "$listen")
if [ -n "${CARBON_CLOCK_START:-}" ]; then args+=(--clock-start "$CARBON_CLOCK_START"); fi
exec build/src/server/carbond "${args[@]}"
