#!/usr/bin/env bash
# Configures and builds carbond in build/ (Ninja, ccache). Extra arguments
# are ninja targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout's parent, so a fresh clone beside
# an earlier one (CI's) reuses its objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(dirname "$PWD")}"
build_dir=${CARBON_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${CARBON_BUILD_TYPE:-RelWithDebInfo} >/dev/null
ninja -C "$build_dir" "$@"
