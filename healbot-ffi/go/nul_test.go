package healbot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Go strings may hold NUL bytes; C strings and the packed label and record
// buffers end or separate at them. A NUL must be an error, never a shorter
// name, another node, or samples moved to another series.
func TestNulBytesAreInvalidInput(t *testing.T) {
	e := smallEngine(t, "")
	defer e.Close()
	at := time.UnixMilli(1_000)
	api := Labels{"service": "api"}
	invalid := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("%s: got %v, want an invalid-input error about a NUL byte", what, err)
		}
	}
	invalid("metric name", e.IngestMetric("cpu\x00x", api, 1, at))
	invalid("label value", e.IngestMetric("cpu", Labels{"service": "api\x00env\x00prod"}, 1, at))
	invalid("label key", e.IngestMetric("cpu", Labels{"service\x00x": "api"}, 1, at))
	// A label value that closes its record early would move the samples
	// after it to the series it spells (cpu on db).
	err := e.IngestMetrics([]Sample{
		{"cpu", api, 0.5, at},
		{"cpu", Labels{"service": "api\x00\x00cpu\x00service\x00db"}, 0.1, at},
		{"cpu", api, 0.99, at},
	})
	invalid("batch", err)
	if !strings.Contains(err.Error(), "sample 1") {
		t.Errorf("batch: %v does not name the sample", err)
	}
	invalid("series", e.IngestSeries("cpu", Labels{"service": "db\x00"}, []float64{1}, []int64{1_000}))
	_, err = e.ResolveSeries("cpu", Labels{"service": "a\x00pi"})
	invalid("resolve", err)
	_, err = e.IngestLogText(Labels{"service": "api\x00x\x00y"}, []byte("line\n"), at)
	invalid("log labels", err)
	invalid("node", e.SetNodeHealth("api\x00db", HealthUnhealthy))
	_, err = e.RecordExecution("d\x00", "restart", "api", at, true)
	invalid("decision id", err)
	_, err = e.RecordOutcome("d\x00", true, at)
	invalid("outcome decision id", err)
	_, err = ParsePayloadFormat("ndjson\x00x")
	invalid("payload format", err)
	_, err = LoadLibrary("lib.yaml\x00.json", []byte(cpuLibrary))
	invalid("library name", err)
	_, err = LoadLibrarySources(Source{"lib\x00.yaml", []byte(cpuLibrary)})
	invalid("source name", err)
	_, err = LoadTopology("t.yaml\x00", []byte(apiTopology))
	invalid("topology name", err)

	// Nothing of the above reached the engine.
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Series != 0 || s.IngestedMetrics != 0 {
		t.Fatalf("stats after rejected calls %+v", s)
	}
	// Text bytes (documents, payloads, log text) may hold NUL: they carry lengths.
	if _, err := e.IngestLogText(api, []byte("a\x00b\n"), at); err != nil {
		t.Fatal(err)
	}
}

func TestReloadLibraryNilIsAnError(t *testing.T) {
	e := smallEngine(t, "")
	defer e.Close()
	if err := e.ReloadLibrary(nil); !errors.Is(err, ErrNullParameter) {
		t.Fatalf("got %v", err)
	}
}
