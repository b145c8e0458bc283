package healbot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Every error names the operation that failed, in its text and in its Op
// field, and keeps its code for errors.Is.
func TestErrorsNameTheOperation(t *testing.T) {
	lib, err := LoadLibrary("lib.yaml", []byte(cpuLibrary))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	topo, err := LoadTopology("t.yaml", []byte(apiTopology))
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	e, err := NewEngine(lib, topo)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1_000)
	bad := strings.Replace(cpuLibrary, "severity: warning", "severity: warning\n      treshold: 3", 1)

	cases := []struct {
		op     string
		target *Error // the sentinel errors.Is must match
		prefix string // the start of Error()
		call   func() error
	}{
		{"LoadLibrary", ErrLibrary, "healbot: LoadLibrary: invalid library document: ", func() error {
			_, err := LoadLibrary("bad.yaml", []byte(bad))
			return err
		}},
		{"LoadLibraryFormat", ErrInvalidInput, "healbot: LoadLibraryFormat: invalid input: ", func() error {
			_, err := LoadLibraryFormat("x", []byte(cpuLibrary), Format(9))
			return err
		}},
		{"LoadTopology", ErrInvalidInput, "healbot: LoadTopology: invalid input: source name \"t\\x00.yaml\" contains a NUL byte", func() error {
			_, err := LoadTopology("t\x00.yaml", []byte(apiTopology))
			return err
		}},
		{"IngestMetric", ErrInvalidInput, "healbot: IngestMetric: invalid input: metric name \"cpu\\x00x\" contains a NUL byte", func() error {
			return e.IngestMetric("cpu\x00x", Labels{"service": "api"}, 1, at)
		}},
		{"IngestMetrics", ErrInvalidInput, "healbot: IngestMetrics: invalid input: sample 1: label key", func() error {
			return e.IngestMetrics([]Sample{{"cpu", nil, 1, at}, {"cpu", Labels{"a\x00": "b"}, 1, at}})
		}},
		{"IngestSample", ErrInvalidInput, "healbot: IngestSample: invalid input: ", func() error {
			return e.IngestSample(Series(12345), 1, 1_000)
		}},
		{"IngestAlertmanager", ErrTelemetry, "healbot: IngestAlertmanager: malformed telemetry payload: ", func() error {
			_, err := e.IngestAlertmanager([]byte("{"))
			return err
		}},
		{"SetNodeHealth", ErrInvalidInput, "healbot: SetNodeHealth: invalid input: ", func() error {
			return e.SetNodeHealth("nope", HealthHealthy)
		}},
		{"RestoreEngine", ErrSnapshot, "healbot: RestoreEngine: invalid snapshot: ", func() error {
			_, err := RestoreEngine(lib, topo, "", snap[:len(snap)/2])
			return err
		}},
		{"NewEngineWithConfig", ErrInvalidInput, "healbot: NewEngineWithConfig: invalid input: ", func() error {
			_, err := NewEngineWithConfig(lib, topo, `{"max_series": "x"}`)
			return err
		}},
		{"Dependencies", ErrInvalidInput, "healbot: Dependencies: invalid input: ", func() error {
			_, err := topo.Dependencies("nope")
			return err
		}},
		{"testPanic", ErrPanic, "healbot: testPanic: the library panicked: ", testPanic},
	}
	for _, c := range cases {
		err := c.call()
		var he *Error
		if !errors.As(err, &he) {
			t.Errorf("%s: got %v, want an *Error", c.op, err)
			continue
		}
		if he.Op != c.op || he.Code != c.target.Code || !errors.Is(err, c.target) {
			t.Errorf("%s: got Op %q, code %v (%v); want code %v", c.op, he.Op, he.Code, err, c.target.Code)
		}
		if !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("%s: got %q, want it to start with %q", c.op, err.Error(), c.prefix)
		}
	}
}

// An error of a closed handle names the operation and wraps ErrClosed.
func TestClosedHandleErrorsNameTheOperation(t *testing.T) {
	e := smallEngine(t, "")
	e.Close()
	_, err := e.Evaluate(time.UnixMilli(1_000))
	if !errors.Is(err, ErrClosed) || err.Error() != "healbot: Evaluate: use of a closed handle" {
		t.Fatalf("got %v", err)
	}
	topo, err := LoadTopology("t.yaml", []byte(apiTopology))
	if err != nil {
		t.Fatal(err)
	}
	topo.Close()
	if _, err := topo.NodeKind("api"); !errors.Is(err, ErrClosed) || !strings.HasPrefix(err.Error(), "healbot: NodeKind: ") {
		t.Fatalf("got %v", err)
	}
}

// The sentinels render as what their code means.
func TestSentinelsRenderTheirCode(t *testing.T) {
	if got := ErrLimit.Error(); got != "healbot: a limit rejected the input" {
		t.Fatalf("got %q", got)
	}
	if errors.Is(ErrLimit, ErrSnapshot) || !errors.Is(&Error{Op: "X", Code: CodeLimit}, ErrLimit) {
		t.Fatal("errors.Is compares codes")
	}
}
