#!/usr/bin/env bash
# Builds the `healbot` Python package into a virtualenv at .venv (created
# when missing) and runs its checks: mypy.stubtest of the hand-written stubs
# against the built module, then the pytest suite (which also runs
# examples/python/runbook.py). Needs only python3 (3.9+), pip and a Rust
# toolchain; a second run reinstalls nothing and rebuilds incrementally.
# Usage: ./scripts/test-python.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

# Pinned test tools; reinstalled only when this list changes.
TOOLS="maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 numpy==2.4.6"

if [ ! -x "$PY" ]; then
  echo "==> creating $VENV"
  python3 -m venv "$VENV"
fi
STAMP="$VENV/.healbot-test-tools"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$TOOLS" ]; then
  echo "==> installing $TOOLS"
  "$PY" -m pip install --quiet --disable-pip-version-check $TOOLS
  echo "$TOOLS" >"$STAMP"
fi

# HEALBOT_PY_RELEASE=1 builds with --release (for benchmarks);
# HEALBOT_PY_FEATURES=py310 builds the abi3-py310 variant instead of the
# default abi3-py39 one (see healbot-py/Cargo.toml).
FEATURES=()
if [ -n "${HEALBOT_PY_FEATURES:-}" ]; then
  FEATURES=(--no-default-features --features "$HEALBOT_PY_FEATURES")
fi
echo "==> maturin develop (healbot-py${HEALBOT_PY_RELEASE:+, release}${HEALBOT_PY_FEATURES:+, $HEALBOT_PY_FEATURES})"
# Cargo's incremental build in the workspace target/ keeps re-runs quick.
VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" \
  "$VENV/bin/maturin" develop --quiet --manifest-path healbot-py/Cargo.toml \
  ${HEALBOT_PY_RELEASE:+--release} ${FEATURES[@]+"${FEATURES[@]}"}

echo "==> mypy.stubtest healbot"
(cd "$ROOT/healbot-py" && "$PY" -m mypy.stubtest healbot --allowlist tests/stubtest-allowlist.txt)

echo "==> mypy (stubs, tests and examples type-check)"
(cd "$ROOT/healbot-py" && "$PY" -m mypy --strict python/healbot tests "$ROOT/examples/python")

echo "==> pytest healbot-py/tests"
(cd "$ROOT/healbot-py" && "$PY" -m pytest -q "$@")
