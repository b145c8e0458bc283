package healbot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const restartLibrary = cpuLibrary + `      actions: [restart]
---
apiVersion: healbot.dev/v1
kind: ActionLibrary
metadata: {name: actions}
spec:
  actions:
    - {id: restart, title: Restart, operation: restart, risk: low, min_confidence: 0.0}
`

func restartEngine(t testing.TB, config string) *Engine {
	t.Helper()
	lib, err := LoadLibrary("lib.yaml", []byte(restartLibrary))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	topo, err := LoadTopology("t.yaml", []byte(apiTopology))
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	e, err := NewEngineWithConfig(lib, topo, config)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var t0 = time.UnixMilli(1_000_000)

func feedHotCPU(t testing.TB, e *Engine) {
	t.Helper()
	for i := 0; i <= 6; i++ {
		if err := e.IngestMetric("cpu", Labels{"service": "api"}, 0.97, t0.Add(time.Duration(i)*10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEvaluateAndLedger(t *testing.T) {
	e := restartEngine(t, "")
	defer e.Close()
	ds, err := e.Evaluate(t0)
	if err != nil || len(ds) != 0 {
		t.Fatalf("%v %v", ds, err)
	}
	feedHotCPU(t, e)
	at := t0.Add(time.Minute)
	ds, err = e.Evaluate(at)
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %v", ds, err)
	}
	d := ds[0]
	if d.Node != "api" || d.Signature == nil || d.Signature.ID != "cpu.hot" || d.Verdict != Execute ||
		d.Action == nil || d.Action.ID != "restart" || d.Action.Operation != "restart" || d.Action.Target != "api" ||
		d.RootCause.Role != "root" || d.Confidence.Value <= 0 || len(d.Confidence.Terms) == 0 ||
		len(d.Evidence) == 0 || d.Explanation == "" || !d.Time().Equal(at) || d.SchemaVersion != 2 || d.Confidence.Inputs.Coverage != 1 || len(d.Confidence.Terms) != 5 {
		t.Fatalf("decision %+v", d)
	}
	js, err := e.EvaluateJSON(at)
	if err != nil || !strings.Contains(string(js), d.ID) {
		t.Fatalf("%s %v", js, err)
	}
	ok, err := e.RecordExecution(d.ID, "restart", "api", at, true)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	ok, err = e.RecordExecution(d.ID, "restart", "api", at, true)
	if err != nil || ok {
		t.Fatalf("repeat: %v %v", ok, err)
	}
	if _, err := e.RecordExecution(d.ID, "nope", "api", at, true); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
	ok, err = e.RecordOutcome(d.ID, true, at.Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	if _, err := e.RecordOutcome("nope", true, at); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
}

func TestSnapshotRestoreReload(t *testing.T) {
	e := restartEngine(t, "")
	defer e.Close()
	feedHotCPU(t, e)
	snap, err := e.Snapshot()
	if err != nil || len(snap) == 0 {
		t.Fatal(err)
	}
	lib, _ := LoadLibrary("lib.yaml", []byte(restartLibrary))
	defer lib.Close()
	topo, _ := LoadTopology("t.yaml", []byte(apiTopology))
	defer topo.Close()
	r, err := RestoreEngine(lib, topo, "", snap)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds, err := r.Evaluate(t0.Add(time.Minute))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %v", ds, err)
	}
	if _, err := RestoreEngine(lib, topo, "", snap[:len(snap)/2]); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("got %v", err)
	}
	other, err := LoadLibrary("lib.yaml", []byte(cpuLibrary))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := RestoreEngine(other, topo, "", snap); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("got %v", err)
	}
	if err := e.ReloadLibrary(other); err != nil {
		t.Fatal(err)
	}
	ds, err = e.Evaluate(t0.Add(time.Minute))
	if err != nil || len(ds) != 1 || ds[0].Action != nil || ds[0].Verdict != Observe {
		t.Fatalf("after reload: %+v %v", ds, err)
	}
}

func TestSeriesHandles(t *testing.T) {
	e := restartEngine(t, `{"max_series": 1}`)
	defer e.Close()
	s, err := e.ResolveSeries("cpu", Labels{"service": "api"})
	if err != nil || s == 0 {
		t.Fatalf("%v %v", s, err)
	}
	if none, err := e.ResolveSeries("unread", Labels{"service": "api"}); err != nil || none != 0 {
		t.Fatalf("%v %v", none, err)
	}
	if _, err := e.ResolveSeries("cpu", Labels{"service": "db"}); !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v", err)
	}
	for i := 0; i <= 6; i++ {
		if err := e.IngestSample(s, 0.97, t0.UnixMilli()+int64(i)*10_000); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.IngestSample(s+5, 1, 1); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "not issued") {
		t.Fatalf("got %v", err)
	}
	if err := e.IngestSamples([]Series{s, 0, s}, []float64{0.97, 1, 0.97}, []int64{1_070_000, 1_070_000, 1_080_000}); err != nil {
		t.Fatal(err)
	}
	if err := e.IngestSamples([]Series{s}, nil, nil); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
	st, _ := e.Stats()
	if st.IngestedMetrics != 9 {
		t.Fatalf("stats %+v", st)
	}
	ds, err := e.Evaluate(t0.Add(time.Minute))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %v", ds, err)
	}
	e.Close()
	if err := e.IngestSample(s, 1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
}
