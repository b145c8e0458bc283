//go:build !healbot_release

package healbot

// The debug build of libhealbot, as scripts/test-go.sh and scripts/test-c.sh
// build it (cargo build -p healbot-ffi). Build with -tags healbot_release to
// link target/release instead (cargo build --release -p healbot-ffi).

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/debug/libhealbot.a -lm -ldl -lpthread
*/
import "C"
