#!/usr/bin/env bash
# The Go suite: builds libhealbot (debug, the build scripts/test-c.sh also
# uses), then runs go vet, go test (with the race detector off: cgo calls
# dominate) and the runnable example of the Go package under healbot-ffi/go.
# Standard library only: no module is fetched.
#
# Benchmarks (release build):
#   cargo build --release -p healbot-ffi
#   (cd healbot-ffi/go && go test -tags healbot_release -run '^$' -bench . -benchmem)
set -euo pipefail
export RUST_BACKTRACE=0
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=1

step() { printf '\n--> %s\n' "$*"; }

step "cargo build -p healbot-ffi"
cargo build -p healbot-ffi --quiet

cd healbot-ffi/go
step "go vet ./..."
go vet ./...

step "go test ./..."
go test -count=1 -v ./...

step "go run ./examples/triage"
go run ./examples/triage ../../examples/shop
