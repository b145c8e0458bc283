package healbot

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include "healbot.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"
)

// ABIVersion is the version of the C ABI this package was written for. The
// package panics when it loads if libhealbot or its header say otherwise.
const ABIVersion = 1

func init() {
	if got := uint32(C.healbot_abi_version()); got != ABIVersion || C.HEALBOT_ABI_VERSION != ABIVersion {
		panic(fmt.Sprintf("healbot: libhealbot implements ABI %d and its header says %d, but this package needs ABI %d",
			got, C.HEALBOT_ABI_VERSION, ABIVersion))
	}
}

// Version is the version of the linked libhealbot (MAJOR.MINOR.PATCH).
func Version() string {
	return C.GoString(C.healbot_version())
}

// Code is a result code of the C ABI.
type Code uint32

// The result codes; their numbers are the ABI's.
const (
	CodeOK            Code = C.HEALBOT_RESULT_OK
	CodeNullParameter Code = C.HEALBOT_RESULT_NULL_PARAMETER
	CodeInvalidInput  Code = C.HEALBOT_RESULT_INVALID_INPUT
	CodeLibrary       Code = C.HEALBOT_RESULT_LIBRARY
	CodeTopology      Code = C.HEALBOT_RESULT_TOPOLOGY
	CodeTelemetry     Code = C.HEALBOT_RESULT_TELEMETRY
	CodeLimit         Code = C.HEALBOT_RESULT_LIMIT
	CodeSnapshot      Code = C.HEALBOT_RESULT_SNAPSHOT
	CodePanic         Code = C.HEALBOT_RESULT_PANIC
	CodeOther         Code = C.HEALBOT_RESULT_OTHER
)

// String is the library's description of the code.
func (c Code) String() string {
	return C.GoString(C.healbot_result_message(C.uint32_t(c)))
}

// Diagnostic is one problem found in a document, with its position.
type Diagnostic struct {
	Severity   string // "error" or "warning"
	Code       string // stable kind code: "unknown-field", "invalid-duration", …
	File       string
	Line       int // 1-based
	Column     int // 1-based, in characters
	Path       string
	Message    string
	Expected   string // empty when unknown
	Found      string // empty when unknown
	Suggestion string // empty when none
}

// String renders the diagnostic as the HealBot CLI does.
func (d Diagnostic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s[%s]: %s", d.File, d.Line, d.Column, d.Severity, d.Code, d.Message)
	if d.Path != "" {
		fmt.Fprintf(&b, " (at %s)", d.Path)
	}
	if d.Expected != "" {
		fmt.Fprintf(&b, "; expected %s", d.Expected)
	}
	if d.Found != "" {
		fmt.Fprintf(&b, ", found %s", d.Found)
	}
	if d.Suggestion != "" {
		fmt.Fprintf(&b, "; %s", d.Suggestion)
	}
	return b.String()
}

// Error is a failure of an operation of this package: the operation, the
// result code, the message and, for documents, the diagnostics. Failures
// libhealbot reports and the checks this package makes before calling it
// (a NUL byte in a name, slices of different lengths) are both *Error.
// Match codes with errors.Is against ErrLimit, ErrLibrary, …; read the
// fields with errors.As.
type Error struct {
	// Op is the method or function that failed, as named in this package:
	// "LoadLibrary", "IngestSample", "Dependencies", … It is empty in the
	// sentinels.
	Op      string
	Code    Code
	Message string // what went wrong; empty in the sentinels
	// Diagnostics are the problems found in a document (file, line,
	// column, path inside it), for CodeLibrary and CodeTopology.
	Diagnostics []Diagnostic
}

// Error renders "healbot: Op: what the code means: message", then one
// diagnostic per line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("healbot: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Code.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, d := range e.Diagnostics {
		b.WriteString("\n  ")
		b.WriteString(d.String())
	}
	return b.String()
}

// Is reports whether target is an *Error with the same code, whatever the
// operation: errors.Is(err, healbot.ErrLimit).
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is, one per code.
var (
	ErrNullParameter = &Error{Code: CodeNullParameter}
	ErrInvalidInput  = &Error{Code: CodeInvalidInput}
	ErrLibrary       = &Error{Code: CodeLibrary}
	ErrTopology      = &Error{Code: CodeTopology}
	ErrTelemetry     = &Error{Code: CodeTelemetry}
	ErrLimit         = &Error{Code: CodeLimit}
	ErrSnapshot      = &Error{Code: CodeSnapshot}
	ErrPanic         = &Error{Code: CodePanic}
	ErrOther         = &Error{Code: CodeOther}
)

// liveHandles counts the libhealbot handles (libraries, topologies,
// engines) this package holds and has not freed yet, for tests of Close and
// of the finalizers.
var liveHandles atomic.Int64

// ErrClosed is the cause of an error from a method of a closed Library,
// Topology or Engine; the error names the method ("healbot: Evaluate: use
// of a closed handle"). Match it with errors.Is.
var ErrClosed = errors.New("use of a closed handle")

// closedError is the error of operation op on a closed handle.
func closedError(op string) error {
	return fmt.Errorf("healbot: %s: %w", op, ErrClosed)
}

// decodeError is the error of operation op when libhealbot's JSON answer
// does not decode (a libhealbot of another version than this package).
func decodeError(op string, err error) error {
	return fmt.Errorf("healbot: %s: cannot decode libhealbot's answer: %w", op, err)
}

// invalid is an error of operation op with CodeInvalidInput: an argument
// this package rejects before calling libhealbot.
func invalid(op, format string, args ...any) *Error {
	return &Error{Op: op, Code: CodeInvalidInput, Message: fmt.Sprintf(format, args...)}
}

// noNul checks a string that crosses the ABI as a C string or inside a
// packed label or record buffer, where a NUL byte ends or separates it: a
// NUL inside would silently shorten a name, or move labels and samples to
// another series or node. what names the argument in the error of
// operation op.
func noNul(op, what, s string) error {
	if strings.IndexByte(s, 0) < 0 {
		return nil
	}
	return invalid(op, "%s %q contains a NUL byte", what, s)
}

// cString is C.CString of a string checked by noNul; free it with C.free.
func cString(op, what, s string) (*C.char, error) {
	if err := noNul(op, what, s); err != nil {
		return nil, err
	}
	return C.CString(s), nil
}

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// takeError turns the result of operation op and its error object into a
// Go error, freeing the error object: the one place libhealbot's errors
// become *Error.
func takeError(op string, r C.healbot_result, cerr *C.healbot_error) error {
	if r == C.HEALBOT_RESULT_OK {
		return nil
	}
	e := &Error{Op: op, Code: Code(r)}
	if cerr != nil {
		defer C.healbot_error_free(cerr)
		e.Message = goString(C.healbot_error_message(cerr))
		n := int(C.healbot_error_diagnostic_count(cerr))
		for i := 0; i < n; i++ {
			d := C.healbot_error_diagnostic(cerr, C.size_t(i))
			if d == nil {
				continue
			}
			sev := "error"
			if d.severity == C.HEALBOT_SEVERITY_WARNING {
				sev = "warning"
			}
			e.Diagnostics = append(e.Diagnostics, Diagnostic{
				Severity:   sev,
				Code:       goString(d.code),
				File:       goString(d.file),
				Line:       int(d.line),
				Column:     int(d.column),
				Path:       goString(d.path),
				Message:    goString(d.message),
				Expected:   goString(d.expected),
				Found:      goString(d.found),
				Suggestion: goString(d.suggestion),
			})
		}
	}
	return e
}

// takeBuffer copies a library buffer into Go memory and frees it. The
// length is a size_t: C.GoBytes takes a C.int, which would wrap for a
// buffer of 2 GiB or more (a large snapshot).
func takeBuffer(buf *C.healbot_buffer) []byte {
	defer C.healbot_buffer_free(buf)
	n := int(C.healbot_buffer_len(buf))
	out := make([]byte, n)
	if n > 0 {
		copy(out, unsafe.Slice((*byte)(unsafe.Pointer(C.healbot_buffer_data(buf))), n))
	}
	return out
}

// bytesPtr is the address of b's first byte (nil when empty). The caller
// keeps b alive across the C call with runtime.KeepAlive.
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

func charPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

// testPanic makes libhealbot panic on purpose (healbot_test_panic), to test
// that a panic comes back as an error with CodePanic.
func testPanic() error {
	var cerr *C.healbot_error
	r := C.healbot_test_panic(&cerr)
	return takeError("testPanic", r, cerr)
}

// abiVersion is healbot_abi_version(), a call that does nothing else: the
// floor of cgo overhead, for benchmarks.
func abiVersion() uint32 {
	return uint32(C.healbot_abi_version())
}
