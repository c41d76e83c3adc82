#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, then runs every test
# in release mode (the model tests run real models; debug builds would take hours).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

scripts/install-deps.sh
swift build -c release --build-tests
swift test -c release --skip-build "$@"
