package healbot

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const shop = "../../examples/shop"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shop, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func shopLibrary(t testing.TB) *Library {
	t.Helper()
	lib, err := LoadLibrarySources(
		Source{"signatures.yaml", read(t, "signatures.yaml")},
		Source{"actions.yaml", read(t, "actions.yaml")},
		Source{"overrides.yaml", read(t, "overrides.yaml")},
	)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

func shopTopology(t testing.TB) *Topology {
	t.Helper()
	topo, err := LoadTopology("topology.yaml", read(t, "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func shopEngine(t testing.TB) *Engine {
	t.Helper()
	lib, topo := shopLibrary(t), shopTopology(t)
	defer lib.Close()
	defer topo.Close()
	e, err := NewEngine(lib, topo)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const cpuLibrary = `apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: lib}
spec:
  signatures:
    - id: cpu.hot
      title: CPU hot
      category: saturation
      severity: warning
      match: {metric: {name: cpu, agg: avg, window: 1m, op: ">", threshold: 0.9}}
`

const apiTopology = `apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: t}
spec: {nodes: [{id: api, kind: service}, {id: db, kind: database}]}
`

func TestVersion(t *testing.T) {
	if v := Version(); !strings.Contains(v, ".") {
		t.Fatalf("version %q", v)
	}
	if CodeLimit.String() == "" || CodeOK.String() != "ok" {
		t.Fatal("code strings")
	}
}

func TestLoadShop(t *testing.T) {
	lib := shopLibrary(t)
	defer lib.Close()
	if lib.SignatureCount() != 5 || lib.ActionCount() != 5 || len(lib.Revision()) != 16 {
		t.Fatalf("library: %d signatures, %d actions, revision %q", lib.SignatureCount(), lib.ActionCount(), lib.Revision())
	}
	topo := shopTopology(t)
	defer topo.Close()
	if topo.NodeCount() != 11 {
		t.Fatalf("%d nodes", topo.NodeCount())
	}
}

func TestLibraryDiagnostics(t *testing.T) {
	bad := strings.Replace(cpuLibrary, "severity: warning", "severity: warning\n      treshold: 3", 1)
	_, err := LoadLibrary("bad.yaml", []byte(bad))
	var he *Error
	if !errors.As(err, &he) || !errors.Is(err, ErrLibrary) {
		t.Fatalf("want a library error, got %v", err)
	}
	if len(he.Diagnostics) == 0 {
		t.Fatal("no diagnostics")
	}
	d := he.Diagnostics[0]
	if d.Code != "unknown-field" || d.File != "bad.yaml" || d.Line != 10 || d.Column != 7 || d.Severity != "error" {
		t.Fatalf("diagnostic %+v", d)
	}
	if !strings.Contains(err.Error(), "bad.yaml:10:7: error[unknown-field]") {
		t.Fatalf("rendering: %s", err)
	}
	// Only signatures: the actions they name are unknown.
	_, err = LoadLibrarySources(Source{"signatures.yaml", read(t, "signatures.yaml")})
	if !errors.As(err, &he) || he.Diagnostics[0].Code != "unknown-reference" {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadLibraryFormat("x", []byte(cpuLibrary), Format(9)); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadLibraryFormat("x", []byte(cpuLibrary), FormatJSON); !errors.Is(err, ErrLibrary) {
		t.Fatalf("got %v", err)
	}
}

func TestTopologyDiagnostics(t *testing.T) {
	_, err := LoadTopology("t.yaml", []byte(strings.Replace(apiTopology, "kind: database", "kind: databse", 1)))
	var he *Error
	if !errors.As(err, &he) || he.Code != CodeTopology || len(he.Diagnostics) == 0 || he.Diagnostics[0].Line != 4 {
		t.Fatalf("got %#v", err)
	}
	topo, err := LoadTopologyFormat("t", []byte(`{"apiVersion":"healbot.dev/v1","kind":"Topology","metadata":{"name":"t"},"spec":{"nodes":[{"id":"a","kind":"service"}]}}`), FormatJSON)
	if err != nil || topo.NodeCount() != 1 {
		t.Fatalf("json topology: %v", err)
	}
	topo.Close()
}

func smallEngine(t testing.TB, config string) *Engine {
	t.Helper()
	lib, err := LoadLibrary("lib.yaml", []byte(cpuLibrary))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := LoadTopology("t.yaml", []byte(apiTopology))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngineWithConfig(lib, topo, config)
	if err != nil {
		t.Fatal(err)
	}
	lib.Close()
	topo.Close()
	return e
}

func TestIngestAndStats(t *testing.T) {
	e := smallEngine(t, "")
	defer e.Close()
	at := time.UnixMilli(1_000)
	api := Labels{"service": "api"}
	if err := e.IngestMetric("cpu", api, 0.95, at); err != nil {
		t.Fatal(err)
	}
	if err := e.IngestMetric("unread", api, 1, at); err != nil {
		t.Fatal(err)
	}
	if err := e.IngestMetric("cpu", Labels{"service": "nowhere", "zone": "a"}, 1, at); err != nil {
		t.Fatal(err)
	}
	err := e.IngestMetrics([]Sample{
		{"cpu", api, 0.96, time.UnixMilli(2_000)},
		{"cpu", Labels{"service": "db", "disk": "sda"}, 0.5, time.UnixMilli(2_000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.IngestSeries("cpu", api, []float64{0.9, 0.91}, []int64{3_000, 4_000}); err != nil {
		t.Fatal(err)
	}
	if err := e.IngestSeries("cpu", api, []float64{0.9}, nil); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
	rep, err := e.IngestNDJSON([]byte(`{"type":"metric","name":"cpu","labels":{"service":"api"},"value":0.97,"at":5000}` + "\nnot json\n"))
	if err != nil || rep.Observations != 1 || rep.Malformed != 1 {
		t.Fatalf("ndjson %+v %v", rep, err)
	}
	rep, err = e.IngestPrometheusText([]byte("cpu{service=\"api\"} 0.99\n"), time.UnixMilli(6_000))
	if err != nil || rep.Observations != 1 {
		t.Fatalf("prometheus %+v %v", rep, err)
	}
	rep, err = e.IngestAlertmanager([]byte(`{"version":"4","status":"firing","receiver":"r","alerts":[{"status":"firing",
		"labels":{"alertname":"Down","service":"db"},"annotations":{},"startsAt":"2026-11-14T22:13:20Z",
		"endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"}]}`))
	if err != nil || rep.Observations != 1 {
		t.Fatalf("alertmanager %+v %v", rep, err)
	}
	if _, err := e.IngestAlertmanager([]byte("{")); !errors.Is(err, ErrTelemetry) {
		t.Fatalf("got %v", err)
	}
	if _, err := e.IngestPayload(PayloadFormat(0), nil, time.Time{}); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Series != 2 || s.IngestedMetrics != 7 || s.Ingested["alert"] != 1 || s.Dropped["not_read"] != 1 ||
		s.Unattached["unknown_node"] != 1 {
		t.Fatalf("stats %+v", s)
	}
	if err := e.SetNodeHealth("db", HealthUnhealthy); err != nil {
		t.Fatal(err)
	}
	if err := e.SetNodeHealth("nope", HealthHealthy); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
}

const oomLibrary = `apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: logs}
spec:
  signatures:
    - id: oom
      title: Out of memory
      category: resource
      severity: warning
      match: {log: {endswith: OutOfMemoryError, window: 5m, threshold: 2}}
`

func TestIngestLogText(t *testing.T) {
	lib, err := LoadLibrary("logs.yaml", []byte(oomLibrary))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := LoadTopology("t.yaml", []byte(apiTopology))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngineWithConfig(lib, topo, `{"max_log_line_len": 40}`)
	lib.Close()
	topo.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	api := Labels{"service": "api"}
	at := time.UnixMilli(1_000)
	// CRLF line ends, invalid UTF-8, a line over the limit, no final newline.
	text := []byte("GET / 200\r\njava.lang.OutOfMemoryError\r\n\xff OutOfMemoryError\n" +
		strings.Repeat("x", 41) + "\nlast")
	rep, err := e.IngestLogText(api, text, at)
	if err != nil || rep != (LogReport{Lines: 5, Ingested: 4, Dropped: 1}) {
		t.Fatalf("report %+v %v", rep, err)
	}
	ds, err := e.Evaluate(at.Add(time.Second))
	if err != nil || len(ds) != 1 || ds[0].Signature == nil || ds[0].Signature.ID != "oom" || ds[0].Node != "api" {
		t.Fatalf("decisions %+v %v", ds, err)
	}
	rep, err = e.IngestLogText(Labels{"service": "nowhere"}, text[:11], at)
	if err != nil || rep != (LogReport{Lines: 1, Unattached: 1}) {
		t.Fatalf("unattached %+v %v", rep, err)
	}
	if rep, err = e.IngestLogText(api, nil, at); err != nil || rep != (LogReport{}) {
		t.Fatalf("empty %+v %v", rep, err)
	}
	if _, err := e.IngestLogText(Labels{"": "api"}, text, at); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Ingested["log"] != 4 || s.Dropped["payload_limit"] != 1 || s.Unattached["unknown_node"] != 1 {
		t.Fatalf("stats %+v", s)
	}
	e.Close()
	if _, err := e.IngestLogText(api, text, at); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
}

func TestPayloadFormats(t *testing.T) {
	for name, want := range map[string]PayloadFormat{"alertmanager": Alertmanager, "prometheus": PrometheusText,
		"otlp_logs": OTLPLogs, "otlp-metrics": OTLPMetrics, "k8s_events": K8sEvents, "pagerduty": PagerDuty, "ndjson": NDJSON} {
		if got, err := ParsePayloadFormat(name); err != nil || got != want {
			t.Fatalf("%s: %v %v", name, got, err)
		}
	}
	_, err := ParsePayloadFormat("alertmanagr")
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("got %v", err)
	}
}

func TestLimits(t *testing.T) {
	e := smallEngine(t, `{"max_series": 1}`)
	defer e.Close()
	if err := e.IngestMetric("cpu", Labels{"service": "api"}, 1, time.UnixMilli(1)); err != nil {
		t.Fatal(err)
	}
	err := e.IngestMetric("cpu", Labels{"service": "db"}, 1, time.UnixMilli(1))
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v", err)
	}
	err = e.IngestMetrics([]Sample{{"cpu", Labels{"service": "api"}, 1, time.UnixMilli(2)}, {"cpu", Labels{"service": "db"}, 1, time.UnixMilli(2)}})
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "1 of 2 samples") {
		t.Fatalf("got %v", err)
	}
	if _, err := NewEngineWithConfig(shopLibrary(t), shopTopology(t), `{"max_series": "x"}`); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v", err)
	}
}

func TestPanicComesBackAsError(t *testing.T) {
	err := testPanic()
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "healbot_test_panic") {
		t.Fatalf("got %v", err)
	}
	e := smallEngine(t, "")
	defer e.Close()
	if err := e.testPanic(); !errors.Is(err, ErrPanic) {
		t.Fatalf("got %v", err)
	}
	// The engine is poisoned; the process is fine.
	if err := e.IngestMetric("cpu", nil, 1, time.UnixMilli(1)); !errors.Is(err, ErrPanic) {
		t.Fatalf("got %v", err)
	}
	if Version() == "" {
		t.Fatal("process state")
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	e := smallEngine(t, "")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.IngestMetric("cpu", nil, 1, time.UnixMilli(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	if _, err := e.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	lib, topo := shopLibrary(t), shopTopology(t)
	lib.Close()
	lib.Close()
	if _, err := NewEngine(lib, topo); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	topo.Close()
	topo.Close()
}

// collect runs collections (and lets the finalizer goroutine run) until
// done says so, at most 100 times.
func collect(done func() bool) {
	for i := 0; i < 100 && !done(); i++ {
		runtime.GC()
		runtime.Gosched()
	}
}

func TestFinalizerFreesForgottenHandles(t *testing.T) {
	// Let handles other tests forgot be finalized first: the count is
	// settled when three collections in a row leave it unchanged.
	last, same := liveHandles.Load(), 0
	collect(func() bool {
		if n := liveHandles.Load(); n == last {
			same++
		} else {
			last, same = n, 0
		}
		return same >= 3
	})
	base := liveHandles.Load()
	for i := 0; i < 50; i++ {
		_ = smallEngine(t, "")
	}
	if got := liveHandles.Load() - base; got != 50 {
		t.Fatalf("%d handles live after 50 forgotten engines, want 50", got)
	}
	// Finalizers run on their own goroutine after a collection finds the
	// engines unreachable.
	collect(func() bool { return liveHandles.Load() <= base })
	if got := liveHandles.Load() - base; got > 0 {
		t.Fatalf("%d forgotten engines were not freed by their finalizers", got)
	}
}

func TestGoroutinesShareOneEngine(t *testing.T) {
	e := shopEngine(t)
	defer e.Close()
	const workers, perWorker = 16, 500
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			svc := []string{"frontend", "cartservice", "checkoutservice", "paymentservice"}[w%4]
			labels := Labels{"service": svc, "worker": string(rune('a' + w))}
			for i := 0; i < perWorker; i++ {
				at := time.UnixMilli(int64(1_000 + i))
				if err := e.IngestMetric("http_server_error_ratio", labels, 0.2, at); err != nil {
					errs <- err
					return
				}
				if i%100 == 0 {
					if _, err := e.Stats(); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.IngestedMetrics != workers*perWorker || s.Series != workers {
		t.Fatalf("stats %+v", s)
	}
}
