package healbot

/*
#include <stdlib.h>
#include "healbot.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// Engine is a decision engine for one topology shard. It is safe for
// concurrent use by many goroutines: libhealbot serialises the calls on one
// engine. Close it when done (a finalizer frees a forgotten one).
type Engine struct {
	// mu guards ptr against Close: calls hold it shared, Close exclusively.
	mu  sync.RWMutex
	ptr *C.healbot_engine
}

// Labels is a label set. Observations attach to topology nodes by label
// (service, app, job, … then aliases).
type Labels map[string]string

// Sample is one metric sample.
type Sample struct {
	Name   string
	Labels Labels
	Value  float64
	At     time.Time
}

// NewEngine creates an engine with default settings. The engine keeps its
// own references: lib and topo may be closed afterwards.
func NewEngine(lib *Library, topo *Topology) (*Engine, error) {
	return newEngine("NewEngine", lib, topo, "")
}

// NewEngineWithConfig creates an engine with settings given as a JSON
// object (max_series, max_samples_per_series, out_of_order_tolerance,
// max_payload_bytes, dry_run, …; absent fields keep their defaults).
func NewEngineWithConfig(lib *Library, topo *Topology, configJSON string) (*Engine, error) {
	return newEngine("NewEngineWithConfig", lib, topo, configJSON)
}

func newEngine(op string, lib *Library, topo *Topology, configJSON string) (*Engine, error) {
	return createEngine(op, lib, topo, configJSON, func(l *C.healbot_library, t *C.healbot_topology, cfg *C.uint8_t,
		cfgLen C.size_t, p **C.healbot_engine, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_engine_new(l, t, cfg, cfgLen, p, cerr)
	})
}

// createEngine holds lib and topo open across create, which makes an engine
// from them and the settings configJSON (healbot_engine_new or _restore), and
// wraps what it makes; op names the operation in errors.
func createEngine(op string, lib *Library, topo *Topology, configJSON string, create func(*C.healbot_library,
	*C.healbot_topology, *C.uint8_t, C.size_t, **C.healbot_engine, **C.healbot_error) C.healbot_result,
) (*Engine, error) {
	if lib == nil || topo == nil {
		return nil, &Error{Op: op, Code: CodeNullParameter, Message: "library and topology must not be nil"}
	}
	lib.mu.RLock()
	defer lib.mu.RUnlock()
	topo.mu.RLock()
	defer topo.mu.RUnlock()
	if lib.ptr == nil || topo.ptr == nil {
		return nil, closedError(op)
	}
	cfg := []byte(configJSON)
	var p *C.healbot_engine
	var cerr *C.healbot_error
	r := create(lib.ptr, topo.ptr, bytesPtr(cfg), C.size_t(len(cfg)), &p, &cerr)
	runtime.KeepAlive(cfg)
	if err := takeError(op, r, cerr); err != nil {
		return nil, err
	}
	e := &Engine{ptr: p}
	liveHandles.Add(1)
	runtime.SetFinalizer(e, (*Engine).Close)
	return e, nil
}

// Close frees the engine. It is idempotent and waits for calls in flight.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ptr != nil {
		C.healbot_engine_free(e.ptr)
		liveHandles.Add(-1)
		e.ptr = nil
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

// encodeLabels appends the packed form of labels (key NUL value NUL …). A
// key or value holding a NUL byte is an error of operation op (see noNul).
func encodeLabels(op string, buf []byte, labels Labels) ([]byte, error) {
	switch len(labels) {
	case 0:
		return buf, nil
	case 1:
		for k, v := range labels {
			if err := labelNul(op, k, v); err != nil {
				return buf, err
			}
			buf = append(append(append(append(buf, k...), 0), v...), 0)
		}
		return buf, nil
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := labels[k]
		if err := labelNul(op, k, v); err != nil {
			return buf, err
		}
		buf = append(append(append(append(buf, k...), 0), v...), 0)
	}
	return buf, nil
}

func labelNul(op, k, v string) error {
	if err := noNul(op, "label key", k); err != nil {
		return err
	}
	return noNul(op, "value of label "+k, v)
}

// encodeSeries is the metric name, a NUL, then the packed labels: the form
// healbot_engine_ingest_metric and its kin read as (name, labels). It
// returns where the labels start.
func encodeSeries(op string, buf []byte, name string, labels Labels) ([]byte, int, error) {
	if err := noNul(op, "metric name", name); err != nil {
		return buf, 0, err
	}
	buf = append(append(buf, name...), 0)
	nameLen := len(buf)
	buf, err := encodeLabels(op, buf, labels)
	return buf, nameLen, err
}

// mapID is the identity of a map (its runtime pointer; 0 for nil).
func mapID(m Labels) uintptr {
	return *(*uintptr)(unsafe.Pointer(&m))
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// IngestMetric ingests one metric sample. Samples that attach to no node or
// that no signature reads are counted in Stats, not errors; a new series
// over the limit is an error with CodeLimit.
//
// Names, label keys and label values cross to libhealbot as NUL-terminated
// strings: one holding a NUL byte is an error with CodeInvalidInput here and
// in every other method that takes one (node and decision ids, source names).
func (e *Engine) IngestMetric(name string, labels Labels, value float64, at time.Time) error {
	bp := scratch.Get().(*[]byte)
	buf, nameLen, err := encodeSeries("IngestMetric", (*bp)[:0], name, labels)
	if err != nil {
		*bp = buf
		scratch.Put(bp)
		return err
	}
	e.mu.RLock()
	var cerr *C.healbot_error
	r := C.healbot_engine_ingest_metric(e.ptr, charPtr(buf), charPtr(buf[nameLen:]), C.size_t(len(buf)-nameLen),
		C.double(value), C.int64_t(at.UnixMilli()), &cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(buf)
	*bp = buf
	scratch.Put(bp)
	return e.check("IngestMetric", r, cerr)
}

// buffer makes call, operation op, on the engine and returns the buffer it
// writes, copied into Go memory (the library's copy is freed).
func (e *Engine) buffer(op string, call func(*C.healbot_engine, **C.healbot_buffer, **C.healbot_error) C.healbot_result) (
	[]byte, error,
) {
	var buf *C.healbot_buffer
	var cerr *C.healbot_error
	e.mu.RLock()
	r := call(e.ptr, &buf, &cerr)
	e.mu.RUnlock()
	if r != C.HEALBOT_RESULT_OK {
		return nil, e.check(op, r, cerr)
	}
	return takeBuffer(buf), nil
}

// check maps the result of operation op to an error, nil for success; a
// nil engine pointer means Close ran.
func (e *Engine) check(op string, r C.healbot_result, cerr *C.healbot_error) error {
	err := takeError(op, r, cerr)
	if r == C.HEALBOT_RESULT_NULL_PARAMETER {
		e.mu.RLock()
		closed := e.ptr == nil
		e.mu.RUnlock()
		if closed {
			return closedError(op)
		}
	}
	return err
}

// IngestMetrics ingests a batch of samples in one call. Every sample is
// tried; when some are rejected the others still count and the error says
// how many were rejected. A name, label key or label value holding a NUL
// byte is an error with CodeInvalidInput that names the sample, and then no
// sample of the batch is ingested.
func (e *Engine) IngestMetrics(samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	values := make([]float64, len(samples))
	ats := make([]int64, len(samples))
	var records []byte
	// A sample with the same name and the same Labels map as the one before
	// repeats its record bytes instead of encoding the map again.
	var prevName string
	var prevMap uintptr
	start, end := 0, 0
	for i, s := range samples {
		if m := mapID(s.Labels); i > 0 && m == prevMap && s.Name == prevName {
			records = append(records, records[start:end]...)
		} else {
			start = len(records)
			var err error
			if records, _, err = encodeSeries("IngestMetrics", records, s.Name, s.Labels); err != nil {
				var he *Error
				if errors.As(err, &he) {
					he.Message = fmt.Sprintf("sample %d: %s", i, he.Message)
				}
				return err
			}
			records = append(records, 0)
			end, prevName, prevMap = len(records), s.Name, m
			if i == 0 {
				records = append(make([]byte, 0, len(records)*len(samples)), records...)
			}
		}
		values[i] = s.Value
		ats[i] = s.At.UnixMilli()
	}
	e.mu.RLock()
	var cerr *C.healbot_error
	r := C.healbot_engine_ingest_packed(e.ptr, charPtr(records), C.size_t(len(records)),
		(*C.double)(unsafe.Pointer(&values[0])), (*C.int64_t)(unsafe.Pointer(&ats[0])), C.size_t(len(samples)), &cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(records)
	runtime.KeepAlive(values)
	runtime.KeepAlive(ats)
	return e.check("IngestMetrics", r, cerr)
}

// IngestSeries ingests many samples of one series: values[i] at atMs[i]
// (Unix milliseconds). The two slices must have the same length.
func (e *Engine) IngestSeries(name string, labels Labels, values []float64, atMs []int64) error {
	if len(values) != len(atMs) {
		return invalid("IngestSeries", "values and atMs differ in length")
	}
	buf, nameLen, err := encodeSeries("IngestSeries", nil, name, labels)
	if err != nil {
		return err
	}
	var vp *C.double
	var tp *C.int64_t
	if len(values) > 0 {
		vp = (*C.double)(unsafe.Pointer(&values[0]))
		tp = (*C.int64_t)(unsafe.Pointer(&atMs[0]))
	}
	e.mu.RLock()
	var cerr *C.healbot_error
	r := C.healbot_engine_ingest_series(e.ptr, charPtr(buf), charPtr(buf[nameLen:]), C.size_t(len(buf)-nameLen),
		vp, tp, C.size_t(len(values)), &cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(buf)
	runtime.KeepAlive(values)
	runtime.KeepAlive(atMs)
	return e.check("IngestSeries", r, cerr)
}

// PayloadFormat is a telemetry payload format libhealbot reads natively.
type PayloadFormat uint32

// Payload formats.
const (
	Alertmanager   PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_ALERTMANAGER
	PrometheusText PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_PROMETHEUS_TEXT
	OTLPLogs       PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_OTLP_LOGS
	OTLPMetrics    PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_OTLP_METRICS
	K8sEvents      PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_K8S_EVENTS
	PagerDuty      PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_PAGER_DUTY
	NDJSON         PayloadFormat = C.HEALBOT_PAYLOAD_FORMAT_NDJSON
)

// ParsePayloadFormat reads a format name ("alertmanager", "prometheus_text",
// "otlp_logs", "otlp_metrics", "k8s_events", "pagerduty", "ndjson").
func ParsePayloadFormat(name string) (PayloadFormat, error) {
	const op = "ParsePayloadFormat"
	cname, err := cString(op, "payload format name", name)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(cname))
	var f C.healbot_payload_format
	var cerr *C.healbot_error
	if err := takeError(op, C.healbot_payload_format_from_name(cname, &f, &cerr), cerr); err != nil {
		return 0, err
	}
	return PayloadFormat(f), nil
}

// IngestReport says what a payload ingestion did.
type IngestReport struct {
	Observations int    // observations parsed
	Malformed    int    // malformed records skipped (the rest still count)
	Dropped      uint64 // records dropped by a limit
}

// IngestPayload parses a payload and ingests every good record. defaultAt
// is the time of records that carry none (Prometheus text, PagerDuty).
func (e *Engine) IngestPayload(format PayloadFormat, payload []byte, defaultAt time.Time) (IngestReport, error) {
	return e.ingestPayload("IngestPayload", format, payload, defaultAt)
}

func (e *Engine) ingestPayload(op string, format PayloadFormat, payload []byte, defaultAt time.Time) (IngestReport,
	error,
) {
	var rep C.healbot_ingest_report
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_ingest_payload(e.ptr, C.uint32_t(format), bytesPtr(payload), C.size_t(len(payload)),
		C.int64_t(defaultAt.UnixMilli()), &rep, &cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(payload)
	if r != C.HEALBOT_RESULT_OK {
		return IngestReport{}, e.check(op, r, cerr)
	}
	return IngestReport{Observations: int(rep.observations), Malformed: int(rep.malformed), Dropped: uint64(rep.dropped)}, nil
}

// IngestAlertmanager ingests an Alertmanager webhook (v4) payload.
func (e *Engine) IngestAlertmanager(payload []byte) (IngestReport, error) {
	return e.ingestPayload("IngestAlertmanager", Alertmanager, payload, time.UnixMilli(0))
}

// IngestPrometheusText ingests a Prometheus text exposition; samples
// without a timestamp are taken at at.
func (e *Engine) IngestPrometheusText(payload []byte, at time.Time) (IngestReport, error) {
	return e.ingestPayload("IngestPrometheusText", PrometheusText, payload, at)
}

// IngestNDJSON ingests HealBot's newline-delimited JSON observations.
func (e *Engine) IngestNDJSON(payload []byte) (IngestReport, error) {
	return e.ingestPayload("IngestNDJSON", NDJSON, payload, time.UnixMilli(0))
}

// LogReport says what a log text ingestion did, in lines; the engine's Stats
// count the same lines.
type LogReport struct {
	Lines      uint64 // lines in the text
	Ingested   uint64 // lines attached to a node and matched (Stats.Ingested["log"])
	Dropped    uint64 // lines over the max_log_line_len setting, not matched (Stats.Dropped["payload_limit"])
	Unattached uint64 // lines within the limit whose labels attach to no node (Stats.Unattached)
}

// IngestLogText ingests a blob of log text of one source (a pod's stream, a
// file): every line gets labels and the time at, and is matched against every
// log pattern of the library; lines are not kept. text is split at '\n', each
// line without a trailing '\r', with no final empty line after a trailing
// newline. It need not be UTF-8 (an invalid sequence is matched as U+FFFD).
// Lines over the limit or attached to no node are counted in the report and
// in Stats, not errors.
func (e *Engine) IngestLogText(labels Labels, text []byte, at time.Time) (LogReport, error) {
	bp := scratch.Get().(*[]byte)
	buf, err := encodeLabels("IngestLogText", (*bp)[:0], labels)
	if err != nil {
		*bp = buf
		scratch.Put(bp)
		return LogReport{}, err
	}
	var rep C.healbot_log_report
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_ingest_log_text(e.ptr, charPtr(buf), C.size_t(len(buf)), bytesPtr(text), C.size_t(len(text)),
		C.int64_t(at.UnixMilli()), &rep, &cerr)
	e.mu.RUnlock()
	runtime.KeepAlive(buf)
	runtime.KeepAlive(text)
	*bp = buf
	scratch.Put(bp)
	if r != C.HEALBOT_RESULT_OK {
		return LogReport{}, e.check("IngestLogText", r, cerr)
	}
	return LogReport{Lines: uint64(rep.lines), Ingested: uint64(rep.ingested), Dropped: uint64(rep.dropped),
		Unattached: uint64(rep.unattached)}, nil
}

// Health is the host's view of a node's health.
type Health uint32

// Health values.
const (
	HealthUnset     Health = C.HEALBOT_HEALTH_UNSET
	HealthHealthy   Health = C.HEALBOT_HEALTH_HEALTHY
	HealthUnhealthy Health = C.HEALBOT_HEALTH_UNHEALTHY
)

// SetNodeHealth sets (or with HealthUnset clears) the host's view of a
// node's health, which overrides what diagnoses say.
func (e *Engine) SetNodeHealth(node string, h Health) error {
	const op = "SetNodeHealth"
	cnode, err := cString(op, "node", node)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cnode))
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_set_node_health(e.ptr, cnode, C.uint32_t(h), &cerr)
	e.mu.RUnlock()
	return e.check(op, r, cerr)
}

// Stats are the engine's counters.
type Stats struct {
	Ingested        map[string]uint64 `json:"ingested"`
	IngestedMetrics uint64            `json:"ingested_metrics"`
	Unattached      map[string]uint64 `json:"unattached"`
	Dropped         map[string]uint64 `json:"dropped"`
	Series          int               `json:"series"`
	Alerts          int               `json:"alerts"`
	Exceptions      uint64            `json:"exceptions"`
	Evaluations     uint64            `json:"evaluations"`
}

// StatsJSON returns the engine's counters as libhealbot renders them.
func (e *Engine) StatsJSON() ([]byte, error) {
	return e.statsJSON("StatsJSON")
}

func (e *Engine) statsJSON(op string) ([]byte, error) {
	return e.buffer(op, func(p *C.healbot_engine, buf **C.healbot_buffer, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_engine_stats_json(p, buf, cerr)
	})
}

// Stats returns the engine's counters.
func (e *Engine) Stats() (Stats, error) {
	const op = "Stats"
	var s Stats
	b, err := e.statsJSON(op)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, decodeError(op, err)
	}
	return s, nil
}

// testPanic makes libhealbot panic while holding the engine's lock
// (healbot_engine_test_panic): the call and every later one fail with
// CodePanic.
func (e *Engine) testPanic() error {
	var cerr *C.healbot_error
	e.mu.RLock()
	r := C.healbot_engine_test_panic(e.ptr, &cerr)
	e.mu.RUnlock()
	return e.check("testPanic", r, cerr)
}
