package healbot

/*
Benchmarks of the cgo overhead. Run them against the release build:

	cargo build --release -p healbot-ffi
	cd healbot-ffi/go && go test -tags healbot_release -run '^$' -bench . -benchmem
*/

import (
	"testing"
	"time"
)

// BenchmarkCgoCall is the floor: one cgo call that does nothing.
func BenchmarkCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = abiVersion()
	}
}

// BenchmarkIngestMetric is one scalar sample per call, labels encoded each time.
func BenchmarkIngestMetric(b *testing.B) {
	e := shopEngine(b)
	defer e.Close()
	labels := Labels{"service": "frontend"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.IngestMetric("http_server_error_ratio", labels, 0.01, time.UnixMilli(int64(1_000+i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestSeries is one call per 4096 samples of one series.
func BenchmarkIngestSeries(b *testing.B) {
	e := shopEngine(b)
	defer e.Close()
	const n = 4096
	values, ats := make([]float64, n), make([]int64, n)
	for i := range values {
		values[i], ats[i] = 0.01, int64(1_000+i)
	}
	labels := Labels{"service": "frontend"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.IngestSeries("http_server_error_ratio", labels, values, ats); err != nil {
			b.Fatal(err)
		}
		for j := range ats {
			ats[j] += n // time moves on, as in a real feed
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "samples/s")
}

// shopServices are the shop services the batch benchmarks spread their
// samples over, one series each.
var shopServices = []string{"frontend", "cartservice", "checkoutservice", "paymentservice",
	"currencyservice", "emailservice", "shippingservice", "adservice"}

// BenchmarkIngestMetrics is one call per 4096 samples over 8 series, in runs
// of 512 samples per series.
func BenchmarkIngestMetrics(b *testing.B) {
	e := shopEngine(b)
	defer e.Close()
	const n = 4096
	labels := make([]Labels, len(shopServices))
	for i, svc := range shopServices {
		labels[i] = Labels{"service": svc} // a host keeps one label set per series
	}
	samples := make([]Sample, n)
	for i := range samples {
		samples[i] = Sample{"http_server_error_ratio", labels[i*8/n], 0.01, time.UnixMilli(int64(1_000 + i))}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.IngestMetrics(samples); err != nil {
			b.Fatal(err)
		}
		for j := range samples {
			samples[j].At = samples[j].At.Add(n * time.Millisecond) // time moves on
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkIngestSample is one scalar sample per call into a resolved series.
func BenchmarkIngestSample(b *testing.B) {
	e := shopEngine(b)
	defer e.Close()
	s, err := e.ResolveSeries("http_server_error_ratio", Labels{"service": "frontend"})
	if err != nil || s == 0 {
		b.Fatal(s, err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.IngestSample(s, 0.01, int64(1_000+i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestSamples is one call per 4096 samples over 8 resolved series.
func BenchmarkIngestSamples(b *testing.B) {
	e := shopEngine(b)
	defer e.Close()
	const n = 4096
	handles := make([]Series, len(shopServices))
	for i, svc := range shopServices {
		h, err := e.ResolveSeries("http_server_error_ratio", Labels{"service": svc})
		if err != nil || h == 0 {
			b.Fatal(h, err)
		}
		handles[i] = h
	}
	series, values, ats := make([]Series, n), make([]float64, n), make([]int64, n)
	for i := range series {
		series[i], values[i], ats[i] = handles[i%len(handles)], 0.01, int64(1_000+i/len(handles))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.IngestSamples(series, values, ats); err != nil {
			b.Fatal(err)
		}
		for j := range ats {
			ats[j] += n / 8 // time moves on
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "samples/s")
}
