//go:build healbot_release

package healbot

// The release build of libhealbot (cargo build --release -p healbot-ffi),
// selected with -tags healbot_release, for benchmarks and production.

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libhealbot.a -lm -ldl -lpthread
*/
import "C"
