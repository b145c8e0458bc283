package healbot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// graphTopology: web -> api -> {db, cache}, api runs on vm, and lone stands
// apart (a second shard).
const graphTopology = `apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: g}
spec:
  nodes:
    - {id: web, kind: load_balancer, tier: 1, depends_on: [api]}
    - {id: api, kind: service, tier: 2, aliases: [api-svc], depends_on: [db, cache], runs_on: [vm]}
    - {id: db, kind: database, tier: 1, replicas: 2, labels: {team: data}}
    - {id: cache, kind: cache, tier: 3}
    - {id: vm, kind: host, tier: 4}
    - {id: lone, kind: external, tier: 4}
`

func graph(t *testing.T) *Topology {
	t.Helper()
	topo, err := LoadTopology("g.yaml", []byte(graphTopology))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestTopologyNodes(t *testing.T) {
	g := graph(t)
	defer g.Close()
	nodes, err := g.Nodes()
	if err != nil {
		t.Fatal(err)
	}
	// The core's node order, not the document's.
	if want := []string{"cache", "api", "web", "db", "lone", "vm"}; !reflect.DeepEqual(nodes, want) {
		t.Fatalf("nodes %q, want %q", nodes, want)
	}
	if len(nodes) != g.NodeCount() {
		t.Fatalf("%d nodes, NodeCount %d", len(nodes), g.NodeCount())
	}
	for node, want := range map[string]bool{"api": true, "api-svc": true, "lone": true, "nope": false, "": false, "a\x00pi": false} {
		if got := g.Contains(node); got != want {
			t.Errorf("Contains(%q) = %v", node, got)
		}
	}

	n, err := g.Node("api-svc")
	if err != nil {
		t.Fatal(err)
	}
	want := Node{ID: "api", Kind: "service", Tier: 2, Replicas: 1, Labels: map[string]string{}, Aliases: []string{"api-svc"}, Shard: 0}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("node %+v, want %+v", n, want)
	}
	if n, err = g.Node("db"); err != nil || n.Replicas != 2 || n.Labels["team"] != "data" || n.Kind != "database" || len(n.Aliases) != 0 {
		t.Fatalf("db: %+v %v", n, err)
	}
	if k, err := g.NodeKind("web"); err != nil || k != "load_balancer" {
		t.Fatalf("kind %q %v", k, err)
	}
	if tier, err := g.NodeTier("cache"); err != nil || tier != 3 {
		t.Fatalf("tier %d %v", tier, err)
	}
}

func TestTopologyGraphQueries(t *testing.T) {
	g := graph(t)
	defer g.Close()
	lists := []struct {
		name string
		f    func(string) ([]string, error)
		node string
		want []string
	}{
		{"Dependencies", g.Dependencies, "web", []string{"api", "cache", "db", "vm"}},
		{"Dependencies", g.Dependencies, "db", []string{}},
		{"DirectDependencies", g.DirectDependencies, "web", []string{"api"}},
		{"DirectDependencies", g.DirectDependencies, "api-svc", []string{"cache", "db", "vm"}},
		{"Dependents", g.Dependents, "db", []string{"api", "web"}},
		{"Dependents", g.Dependents, "lone", []string{}},
		{"DirectDependents", g.DirectDependents, "db", []string{"api"}},
	}
	for _, c := range lists {
		got, err := c.f(c.node)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s(%q) = %q, %v; want %q", c.name, c.node, got, err, c.want)
		}
	}

	if r, err := g.BlastRadius("db"); err != nil || r != (BlastRadius{Nodes: 2, TierWeighted: 12}) {
		t.Errorf("BlastRadius(db) = %+v, %v", r, err)
	}
	if r, err := g.BlastRadius("web"); err != nil || r != (BlastRadius{}) {
		t.Errorf("BlastRadius(web) = %+v, %v", r, err)
	}

	paths := []struct {
		from, to string
		want     []string
	}{
		{"web", "vm", []string{"web", "api", "vm"}},
		{"web", "api-svc", []string{"web", "api"}},
		{"db", "db", []string{"db"}},
		{"vm", "web", nil},
		{"web", "lone", nil},
	}
	for _, c := range paths {
		got, err := g.PathToDependency(c.from, c.to)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("PathToDependency(%q, %q) = %q, %v; want %q", c.from, c.to, got, err, c.want)
		}
	}

	if s, err := g.ShardOf("web"); err != nil || s != 0 {
		t.Errorf("ShardOf(web) = %d, %v", s, err)
	}
	if s, err := g.ShardOf("lone"); err != nil || s != 1 {
		t.Errorf("ShardOf(lone) = %d, %v", s, err)
	}
	shards, err := g.Shards()
	if want := [][]string{{"cache", "api", "web", "db", "vm"}, {"lone"}}; err != nil || !reflect.DeepEqual(shards, want) {
		t.Errorf("Shards() = %q, %v; want %q", shards, err, want)
	}
}

func TestTopologyQueryErrors(t *testing.T) {
	g := graph(t)
	calls := map[string]func(string) error{
		"Node":               func(n string) error { _, err := g.Node(n); return err },
		"NodeKind":           func(n string) error { _, err := g.NodeKind(n); return err },
		"NodeTier":           func(n string) error { _, err := g.NodeTier(n); return err },
		"Dependencies":       func(n string) error { _, err := g.Dependencies(n); return err },
		"Dependents":         func(n string) error { _, err := g.Dependents(n); return err },
		"DirectDependencies": func(n string) error { _, err := g.DirectDependencies(n); return err },
		"DirectDependents":   func(n string) error { _, err := g.DirectDependents(n); return err },
		"BlastRadius":        func(n string) error { _, err := g.BlastRadius(n); return err },
		"ShardOf":            func(n string) error { _, err := g.ShardOf(n); return err },
		"PathToDependency source": func(n string) error {
			_, err := g.PathToDependency(n, "db")
			return err
		},
		"PathToDependency target": func(n string) error {
			_, err := g.PathToDependency("web", n)
			return err
		},
	}
	for name, call := range calls {
		// An unknown node: the C error's code and message come through.
		err := call("nope")
		var he *Error
		if !errors.Is(err, ErrInvalidInput) || !errors.As(err, &he) || !strings.Contains(he.Message, "unknown node `nope`") {
			t.Errorf("%s(nope): %v", name, err)
		}
		// A NUL byte would shorten the name in C: refused before the call.
		if err := call("api\x00x"); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("%s(NUL): %v", name, err)
		}
	}
	g.Close()
	for name, call := range calls {
		if err := call("api"); !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a closed topology: %v", name, err)
		}
	}
	if _, err := g.Nodes(); !errors.Is(err, ErrClosed) {
		t.Errorf("Nodes on a closed topology: %v", err)
	}
	if _, err := g.Shards(); !errors.Is(err, ErrClosed) {
		t.Errorf("Shards on a closed topology: %v", err)
	}
	if g.Contains("api") {
		t.Error("a closed topology contains api")
	}
}

func TestDiagnose(t *testing.T) {
	e := restartEngine(t, "")
	defer e.Close()
	ds, err := e.Diagnose(t0)
	if err != nil || ds == nil || len(ds) != 0 {
		t.Fatalf("before any sample: %v %v", ds, err)
	}
	feedHotCPU(t, e)
	at := t0.Add(time.Minute)
	ds, err = e.Diagnose(at)
	if err != nil || len(ds) != 1 {
		t.Fatalf("%+v %v", ds, err)
	}
	d := ds[0]
	if d.Signature != "cpu.hot" || d.Node != "api" || d.Category != "saturation" || d.Severity != "warning" ||
		d.Status != "stable" || !d.Time().Equal(at) || d.OnsetTime().After(at) || d.Forecast {
		t.Fatalf("diagnosis %+v", d)
	}
	if len(d.Evidence) != 1 || !d.Evidence[0].Satisfied || d.Evidence[0].Observed == nil || *d.Evidence[0].Observed < 0.9 ||
		d.Evidence[0].Role != "required" {
		t.Fatalf("evidence %+v", d.Evidence)
	}
	if d.Coverage <= 0 || d.Coverage > 1 {
		t.Fatalf("coverage %v", d.Coverage)
	}
	raw, err := e.DiagnoseJSON(at)
	if err != nil || !strings.HasPrefix(string(raw), "[") || !strings.Contains(string(raw), `"node_id":"api"`) {
		t.Fatalf("%s %v", raw, err)
	}
	// Diagnosing decides nothing: the engine still decides afterwards.
	if decisions, err := e.Evaluate(at); err != nil || len(decisions) != 1 {
		t.Fatalf("evaluate after diagnose: %v %v", decisions, err)
	}
	e.Close()
	if _, err := e.Diagnose(at); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
