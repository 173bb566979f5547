#!/usr/bin/env bash
# The second set-up command: installs what is missing, builds everything and
# runs the whole test suite: unit, store and end-to-end tests (the suite
# starts its own PostgreSQL), then the pure modules' tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer, and the tests of the
# threaded code (rings, metrics, the engine runtime) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout's parent, so a fresh clone beside
# an earlier one (CI's) reuses its objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(dirname "$PWD")}"
scripts/install-deps.sh

echo "== build (RelWithDebInfo) =="
scripts/build.sh
echo "== tests =="
ctest --test-dir build --output-on-failure -j2 --timeout 600

echo "== sanitizer build (address + undefined) of the pure modules =="
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCARBON_SANITIZE=ON \
  -DCARBON_BUILD_SERVER=OFF -DCARBON_BUILD_BENCH=OFF >/dev/null
ninja -C build-sanitize
echo "== tests under sanitizers =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j2 --timeout 600

echo "== ThreadSanitizer build of the threaded code's tests (rings, metrics, engine runtime) =="
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARBON_TSAN=ON \
  -DCARBON_BUILD_SERVER=OFF -DCARBON_BUILD_BENCH=OFF >/dev/null
ninja -C build-tsan
echo "== tests under ThreadSanitizer =="
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -j2 --timeout 600
