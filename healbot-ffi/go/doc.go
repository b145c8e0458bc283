// Package healbot is the Go binding of HealBot, an embeddable, deterministic
// decision engine for autonomous operations, over libhealbot's C ABI (cgo).
//
// Load a library of failure signatures and actions and a service topology,
// create an Engine, feed it telemetry (metric samples one at a time or in
// batches, blobs of log text, or whole payloads: Alertmanager webhooks,
// Prometheus text, OTLP JSON, Kubernetes events, PagerDuty, NDJSON), and ask
// it what to do at a time. HealBot never reads a clock and never executes
// anything: times are passed in, and the host runs what a decision approves
// and reports back.
//
// A Topology answers questions about the graph, as the Python binding's
// does: Nodes, Node (kind, tier, replicas, labels, aliases, shard),
// Dependencies and Dependents (transitive, nearest first) and their Direct
// forms, BlastRadius, PathToDependency, ShardOf and Shards. Engine.Diagnose
// lists the signatures that match at a time without deciding anything.
//
// # Building
//
// The package links the static libhealbot.a of the repository it sits in
// (target/debug by default, target/release with -tags healbot_release):
//
//	cargo build -p healbot-ffi             # or: cargo build --release -p healbot-ffi
//	cd healbot-ffi/go && go test ./...     # or: go test -tags healbot_release ./...
//
// When it loads, the package checks that libhealbot implements the ABI it was
// written for (ABIVersion) and panics otherwise.
//
// # Concurrency and lifetime
//
// Library and Topology are immutable and safe for concurrent use. An Engine
// is safe for concurrent use by many goroutines (libhealbot serialises the
// calls on one engine). Every handle has an idempotent Close; a finalizer
// frees a handle that was forgotten, but Close it yourself to free native
// memory promptly. An engine keeps what it needs of its library and topology,
// which may be closed as soon as the engine exists.
//
// # Errors
//
// Failures are *Error values with the operation that failed (Op: the
// method or function, "IngestSample"), a Code, a message and, for
// documents, the Diagnostics found (file, line, column, path, what was
// expected). They read
//
//	healbot: IngestSample: invalid input: series handle 12345 was not issued by this engine
//
// Match codes with errors.Is against ErrLibrary, ErrLimit, ErrTelemetry, …
// and read the fields with errors.As. A method of a closed handle fails
// with an error that names it and wraps ErrClosed.
//
// # Example
//
//	package main
//
//	import (
//		"fmt"
//		"log"
//		"time"
//
//		healbot "healbot.dev/healbot-go"
//	)
//
//	const library = `apiVersion: healbot.dev/v1
//	kind: SignatureLibrary
//	metadata: {name: lib}
//	spec:
//	  signatures:
//	    - id: cpu.hot
//	      title: CPU hot
//	      category: saturation
//	      severity: warning
//	      match: {metric: {name: cpu, agg: avg, window: 1m, op: ">", threshold: 0.9}}
//	`
//
//	const topology = `apiVersion: healbot.dev/v1
//	kind: Topology
//	metadata: {name: t}
//	spec: {nodes: [{id: api, kind: service}]}
//	`
//
//	func main() {
//		lib, err := healbot.LoadLibrary("lib.yaml", []byte(library))
//		if err != nil {
//			log.Fatal(err) // an *healbot.Error listing every diagnostic
//		}
//		defer lib.Close()
//		topo, err := healbot.LoadTopology("topology.yaml", []byte(topology))
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer topo.Close()
//		engine, err := healbot.NewEngine(lib, topo)
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer engine.Close()
//
//		now := time.UnixMilli(1_700_000_000_000)
//		if err := engine.IngestMetric("cpu", healbot.Labels{"service": "api"}, 0.97, now); err != nil {
//			log.Fatal(err)
//		}
//		decisions, err := engine.Evaluate(now.Add(time.Second))
//		if err != nil {
//			log.Fatal(err)
//		}
//		for _, d := range decisions {
//			fmt.Printf("%s on %s: %s (confidence %.2f)\n", d.Signature.ID, d.Node, d.Verdict, d.Confidence.Value)
//		}
//	}
//
// A larger program is examples/triage (go run ./examples/triage).
package healbot
