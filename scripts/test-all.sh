#!/usr/bin/env bash
# Runs every test suite of HealBot: Rust (unit, integration, doc, the
# committed schema and header checks, the API docs' links), and the Python, C and Go suites when
# their parts exist. Installs what it needs itself (a virtualenv under
# .venv for Python tools). Usage: ./scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (deny warnings)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust tests"
cargo test --workspace --quiet

step "cargo doc (deny warnings: broken and private links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "healbot check examples/ and library/"
cargo run --quiet -p healbot-cli -- check examples/ >/dev/null
if [ -d library ] && ls library/*.yaml >/dev/null 2>&1; then
  cargo run --quiet -p healbot-cli -- check library/ >/dev/null
fi

for extra in scripts/test-python.sh scripts/test-c.sh scripts/test-go.sh scripts/test-smoke-eval.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$ROOT/$extra"
  fi
done

step "all suites passed"
