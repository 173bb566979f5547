#!/usr/bin/env bash
# Configures and builds carbond in build/ (Ninja, ccache). Extra arguments
# are ninja targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CARBON_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${CARBON_BUILD_TYPE:-RelWithDebInfo} >/dev/null
ninja -C "$build_dir" "$@"
