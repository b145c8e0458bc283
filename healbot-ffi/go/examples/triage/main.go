// Command triage loads the bundled shop example, feeds the engine an
// Alertmanager webhook and a few metric samples, and prints what HealBot
// decides. Usage: go run ./examples/triage [EXAMPLES_DIR]
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	healbot "healbot.dev/healbot-go"
)

func main() {
	dir := "../../examples/shop"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	read := func(name string) healbot.Source {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			log.Fatal(err)
		}
		return healbot.Source{Name: name, Text: b}
	}
	lib, err := healbot.LoadLibrarySources(read("signatures.yaml"), read("actions.yaml"), read("overrides.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	defer lib.Close()
	topoSource := read("topology.yaml")
	topo, err := healbot.LoadTopology(topoSource.Name, topoSource.Text)
	if err != nil {
		log.Fatal(err)
	}
	defer topo.Close()
	engine, err := healbot.NewEngine(lib, topo)
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	fmt.Printf("libhealbot %s, library %s: %d signatures, %d actions, %d nodes\n",
		healbot.Version(), lib.Revision(), lib.SignatureCount(), lib.ActionCount(), topo.NodeCount())

	start := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	// redis-cart stops answering its exporter; the cart service errors.
	var samples []healbot.Sample
	for s := 0; s <= 180; s += 15 {
		at := start.Add(time.Duration(s) * time.Second)
		samples = append(samples,
			healbot.Sample{Name: "redis_up", Labels: healbot.Labels{"service": "redis-cart"}, Value: 0, At: at},
			healbot.Sample{Name: "http_server_error_ratio", Labels: healbot.Labels{"service": "cartservice"}, Value: 0.3, At: at},
		)
	}
	if err := engine.IngestMetrics(samples); err != nil {
		log.Fatal(err)
	}
	webhook := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"healbot","alerts":[
	  {"status":"firing","labels":{"alertname":"KubePodCrashLooping","service":"emailservice"},
	   "annotations":{},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","fingerprint":"e1"}]}`,
		start.Format(time.RFC3339))
	report, err := engine.IngestAlertmanager([]byte(webhook))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alertmanager: %d observations, %d malformed\n", report.Observations, report.Malformed)

	// Signatures with `for: 1m` must hold across evaluations a minute apart.
	if _, err := engine.Evaluate(start.Add(time.Minute)); err != nil {
		log.Fatal(err)
	}
	if err := triage(engine, start.Add(3*time.Minute)); err != nil {
		log.Fatal(err)
	}
	stats, err := engine.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stats: %d series, %d alerts, ingested %v\n", stats.Series, stats.Alerts, stats.Ingested)
}
