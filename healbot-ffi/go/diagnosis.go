package healbot

/*
#include "healbot.h"
*/
import "C"

import (
	"encoding/json"
	"time"
)

// Diagnosis is a signature that matched on a node at a time, with the
// evidence that made it: what Engine.Diagnose returns, before any decision.
type Diagnosis struct {
	Signature      string     `json:"signature"`
	SignatureIndex int        `json:"signature_index"` // the signature's index in the library
	Node           string     `json:"node_id"`
	NodeIndex      int        `json:"node"` // the node's index in the topology
	Category       string     `json:"category"`
	Severity       string     `json:"severity"`
	Status         string     `json:"status"` // stable or experimental
	Onset          int64      `json:"onset"`  // Unix ms: when the match condition first held
	At             int64      `json:"at"`     // Unix ms: the evaluation time
	Evidence       []Evidence `json:"evidence"`
	EvidenceWeight float64    `json:"evidence_weight"` // sum of the weights of the evidence items that held
	Coverage       float64    `json:"coverage"`        // share of the series read that had fresh data, in [0, 1]
	Forecast       bool       `json:"forecast"`        // from a forecast predicate (a notice)
}

// Time is the evaluation time.
func (d *Diagnosis) Time() time.Time { return time.UnixMilli(d.At) }

// OnsetTime is when the match condition first held.
func (d *Diagnosis) OnsetTime() time.Time { return time.UnixMilli(d.Onset) }

// DiagnoseJSON diagnoses at a time without deciding and returns the
// diagnoses as one JSON array of diagnosis documents, as libhealbot renders
// them.
func (e *Engine) DiagnoseJSON(at time.Time) ([]byte, error) {
	return e.diagnoseJSON("DiagnoseJSON", at)
}

func (e *Engine) diagnoseJSON(op string, at time.Time) ([]byte, error) {
	return e.buffer(op, func(p *C.healbot_engine, buf **C.healbot_buffer, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_engine_diagnose_json(p, C.int64_t(at.UnixMilli()), buf, cerr)
	})
}

// Diagnose returns every signature that matches at a time, on every node it
// applies to, sorted by node and signature, without making decisions. Like
// Evaluate it moves the engine's clock on; it records nothing in the ledger.
func (e *Engine) Diagnose(at time.Time) ([]Diagnosis, error) {
	const op = "Diagnose"
	b, err := e.diagnoseJSON(op, at)
	if err != nil {
		return nil, err
	}
	var ds []Diagnosis
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, decodeError(op, err)
	}
	return ds, nil
}
