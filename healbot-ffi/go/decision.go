package healbot

/*
#include <stdlib.h>
#include <stdbool.h>
#include "healbot.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"time"
	"unsafe"
)

// Verdict is what the host should do about a decision.
type Verdict string

// Verdicts, the ladder from acting to watching.
const (
	Execute  Verdict = "execute"  // run the chosen action unattended
	Escalate Verdict = "escalate" // a person must approve (see Reasons)
	Suppress Verdict = "suppress" // a symptom of a root cause elsewhere
	Blocked  Verdict = "blocked"  // every candidate action failed a guard
	Observe  Verdict = "observe"  // nothing to do, or a notice
)

// Decision is one decision document (schema version 1).
type Decision struct {
	SchemaVersion   int              `json:"schema_version"`
	ID              string           `json:"id"`
	LibraryRevision string           `json:"library_revision"`
	At              int64            `json:"at"` // Unix ms
	Node            string           `json:"node"`
	Signature       *SignatureRef    `json:"signature,omitempty"` // nil for an inferred suspect
	Onset           int64            `json:"onset"`               // Unix ms
	Verdict         Verdict          `json:"verdict"`
	Reasons         []string         `json:"reasons"`
	Confidence      Confidence       `json:"confidence"`
	Evidence        []Evidence       `json:"evidence"`
	RootCause       RootCause        `json:"root_cause"`
	Action          *Action          `json:"action,omitempty"` // nil when none was chosen
	Rejected        []RejectedAction `json:"rejected"`
	Explanation     string           `json:"explanation"`
}

// Time is the evaluation time.
func (d *Decision) Time() time.Time { return time.UnixMilli(d.At) }

// OnsetTime is when the failure began.
func (d *Decision) OnsetTime() time.Time { return time.UnixMilli(d.Onset) }

// SignatureRef names the signature behind a decision.
type SignatureRef struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
}

// Confidence is a decision's confidence with every term that built it.
type Confidence struct {
	Value   float64          `json:"value"`
	LogOdds float64          `json:"log_odds"`
	Inputs  ConfidenceInputs `json:"inputs"`
	Terms   []ConfidenceTerm `json:"terms"`
}

// ConfidenceInputs are the numbers a confidence is computed from; the
// terms are written from them.
type ConfidenceInputs struct {
	Prior                   float64 `json:"prior"`
	Evidence                float64 `json:"evidence"`
	Coverage                float64 `json:"coverage"`
	ExplainedByDependency   bool    `json:"explained_by_dependency"`
	CorroboratingDependents int     `json:"corroborating_dependents"`
	Successes               int     `json:"successes"`
	Failures                int     `json:"failures"`
}

// ConfidenceTerm is one term of a confidence, in log-odds.
type ConfidenceTerm struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Detail string  `json:"detail"`
}

// Evidence is one predicate as evaluated.
type Evidence struct {
	Path      string   `json:"path"`
	ID        string   `json:"id,omitempty"`
	Predicate string   `json:"predicate"`
	Observed  *float64 `json:"observed"`
	Op        string   `json:"op,omitempty"`
	Threshold *float64 `json:"threshold,omitempty"`
	Window    string   `json:"window,omitempty"`
	Satisfied bool     `json:"satisfied"`
	Role      string   `json:"role"`             // required, evidence or exception
	Weight    *float64 `json:"weight,omitempty"` // for evidence
	Note      string   `json:"note,omitempty"`
}

// RootCause is a decision's root-cause verdict.
type RootCause struct {
	Role      string   `json:"role"` // root, symptom or inferred_suspect
	Node      string   `json:"node"`
	Signature string   `json:"signature,omitempty"`
	Path      []string `json:"path"`
	Rank      int      `json:"rank,omitempty"`
	Score     float64  `json:"score,omitempty"`
	Explains  []string `json:"explains,omitempty"`
}

// Action is the action HealBot chose.
type Action struct {
	ID            string                     `json:"id"`
	Operation     string                     `json:"operation"`
	Target        string                     `json:"target"`
	Parameters    map[string]json.RawMessage `json:"parameters"`
	Risk          string                     `json:"risk"`
	MinConfidence float64                    `json:"min_confidence"`
	GuardsPassed  []string                   `json:"guards_passed"`
}

// RejectedAction is an action considered and rejected, with its failed guards.
type RejectedAction struct {
	ID     string         `json:"id"`
	Target string         `json:"target,omitempty"`
	Failed []GuardFailure `json:"failed"`
}

// GuardFailure is a guard that failed, with the numbers behind it.
type GuardFailure struct {
	Guard    string   `json:"guard"`
	Reason   string   `json:"reason"`
	Observed *float64 `json:"observed,omitempty"`
	Limit    *float64 `json:"limit,omitempty"`
}

// EvaluateJSON evaluates at a time and returns the decisions as one JSON
// array of decision documents, as libhealbot renders them.
func (e *Engine) EvaluateJSON(at time.Time) ([]byte, error) {
	return e.evaluateJSON("EvaluateJSON", at)
}

func (e *Engine) evaluateJSON(op string, at time.Time) ([]byte, error) {
	return e.buffer(op, func(p *C.healbot_engine, buf **C.healbot_buffer, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_engine_evaluate_json(p, C.int64_t(at.UnixMilli()), buf, cerr)
	})
}

// Evaluate evaluates every signature at a time and returns the decisions.
func (e *Engine) Evaluate(at time.Time) ([]Decision, error) {
	const op = "Evaluate"
	b, err := e.evaluateJSON(op, at)
	if err != nil {
		return nil, err
	}
	var ds []Decision
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, decodeError(op, err)
	}
	return ds, nil
}

// RecordExecution records that the host ran action on target for a
// decision. It reports whether anything was recorded (a repeat is not).
func (e *Engine) RecordExecution(decisionID, action, target string, at time.Time, unattended bool) (bool, error) {
	const op = "RecordExecution"
	for _, a := range [...]struct{ what, s string }{{"decision id", decisionID}, {"action id", action}, {"target", target}} {
		if err := noNul(op, a.what, a.s); err != nil {
			return false, err
		}
	}
	cid, caction, ctarget := C.CString(decisionID), C.CString(action), C.CString(target)
	defer C.free(unsafe.Pointer(cid))
	defer C.free(unsafe.Pointer(caction))
	defer C.free(unsafe.Pointer(ctarget))
	var recorded C.bool
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_record_execution(e.ptr, cid, caction, ctarget, C.int64_t(at.UnixMilli()), C.bool(unattended),
		&recorded, &cerr)
	e.mu.RUnlock()
	if r != C.HEALBOT_RESULT_OK {
		return false, e.check(op, r, cerr)
	}
	return bool(recorded), nil
}

// RecordOutcome records whether an executed action worked. It reports
// whether anything was recorded (a repeat is not).
func (e *Engine) RecordOutcome(decisionID string, success bool, at time.Time) (bool, error) {
	const op = "RecordOutcome"
	cid, err := cString(op, "decision id", decisionID)
	if err != nil {
		return false, err
	}
	defer C.free(unsafe.Pointer(cid))
	var recorded C.bool
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_record_outcome(e.ptr, cid, C.bool(success), C.int64_t(at.UnixMilli()), &recorded, &cerr)
	e.mu.RUnlock()
	if r != C.HEALBOT_RESULT_OK {
		return false, e.check(op, r, cerr)
	}
	return bool(recorded), nil
}

// ReloadLibrary swaps the engine's library, keeping its state. On error the
// old library stays in use.
func (e *Engine) ReloadLibrary(lib *Library) error {
	const op = "ReloadLibrary"
	if lib == nil {
		return &Error{Op: op, Code: CodeNullParameter, Message: "library must not be nil"}
	}
	lib.mu.RLock()
	defer lib.mu.RUnlock()
	if lib.ptr == nil {
		return closedError(op)
	}
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_reload_library(e.ptr, lib.ptr, &cerr)
	e.mu.RUnlock()
	return e.check(op, r, cerr)
}

// Snapshot returns the engine's state as bytes for RestoreEngine.
func (e *Engine) Snapshot() ([]byte, error) {
	return e.buffer("Snapshot", func(p *C.healbot_engine, buf **C.healbot_buffer, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_engine_snapshot(p, buf, cerr)
	})
}

// RestoreEngine creates an engine from a snapshot taken with the same
// library, with settings as for NewEngineWithConfig ("" for defaults).
func RestoreEngine(lib *Library, topo *Topology, configJSON string, snapshot []byte) (*Engine, error) {
	defer runtime.KeepAlive(snapshot)
	return createEngine("RestoreEngine", lib, topo, configJSON, func(l *C.healbot_library, t *C.healbot_topology, cfg *C.uint8_t,
		cfgLen C.size_t, p **C.healbot_engine, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_engine_restore(l, t, cfg, cfgLen, bytesPtr(snapshot), C.size_t(len(snapshot)), p, cerr)
	})
}

// Series is a resolved series of one engine, for ingestion without hashing
// names and labels again. The zero Series stands for samples the engine
// does not keep (no signature reads the metric, or no node matches).
type Series uint64

// ResolveSeries resolves the series of a metric and labels.
func (e *Engine) ResolveSeries(name string, labels Labels) (Series, error) {
	const op = "ResolveSeries"
	buf, nameLen, err := encodeSeries(op, nil, name, labels)
	if err != nil {
		return 0, err
	}
	var s C.uint64_t
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_resolve_series(e.ptr, charPtr(buf), charPtr(buf[nameLen:]), C.size_t(len(buf)-nameLen), &s,
		&cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(buf)
	if r != C.HEALBOT_RESULT_OK {
		return 0, e.check(op, r, cerr)
	}
	return Series(s), nil
}

// IngestSample ingests one sample of a resolved series (at in Unix ms).
func (e *Engine) IngestSample(s Series, value float64, atMs int64) error {
	e.mu.RLock()
	r := C.healbot_engine_ingest_by_handle(e.ptr, C.uint64_t(s), C.double(value), C.int64_t(atMs), nil)
	e.mu.RUnlock()
	if r != C.HEALBOT_RESULT_OK {
		return e.retry("IngestSample", func(cerr **C.healbot_error) C.healbot_result {
			return C.healbot_engine_ingest_by_handle(e.ptr, C.uint64_t(s), C.double(value), C.int64_t(atMs), cerr)
		})
	}
	return nil
}

// IngestSamples ingests samples of resolved series in one call:
// values[i] at atMs[i] (Unix ms) into series[i]. The slices must have the
// same length.
func (e *Engine) IngestSamples(series []Series, values []float64, atMs []int64) error {
	if len(series) != len(values) || len(values) != len(atMs) {
		return invalid("IngestSamples", "series, values and atMs differ in length")
	}
	if len(series) == 0 {
		return nil
	}
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_ingest_handles(e.ptr, (*C.uint64_t)(unsafe.Pointer(&series[0])),
		(*C.double)(unsafe.Pointer(&values[0])), (*C.int64_t)(unsafe.Pointer(&atMs[0])), C.size_t(len(series)), &cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(series)
	runtime.KeepAlive(values)
	runtime.KeepAlive(atMs)
	return e.check("IngestSamples", r, cerr)
}

// retry repeats a failed call of operation op with an error object, so the
// hot path passes no out-parameter (which would escape to the heap) and a
// failure still carries its message. Calls that failed had no effect.
func (e *Engine) retry(op string, call func(**C.healbot_error) C.healbot_result) error {
	var cerr *C.healbot_error
	e.mu.RLock()
	r := call(&cerr)
	e.mu.RUnlock()
	return e.check(op, r, cerr)
}
