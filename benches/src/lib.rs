//! Shared fixtures for the HealBot benchmarks.
//!
//! [`engine`] builds what the `evaluate` and `decision` benchmarks run on:
//! layered topologies of any size, generated signature libraries written as
//! YAML (the document language of `docs/formats.md`), one 20-predicate
//! signature, an action library with every guard, and realistic telemetry
//! (three series per node per metric the library reads, 15 s apart, over
//! 5 minutes). [`cascade`] is the end-to-end scenario of
//! `benches/python/bench_ingest.py` in Rust: a database outage cascading to
//! 500 services, about a thousand decisions per evaluation.
// Fixtures build their own inputs, which are valid by construction: a
// failure is a bug in the fixture, and a panic with its message is the
// clearest report a benchmark can give.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod engine {
    //! Topologies, libraries and telemetry for engine benchmarks.

    use std::fmt::Write as _;

    use healbot_core::ledger::Execution;
    use healbot_core::telemetry::{Alert, AlertStatus, Labels, LogRecord};
    use healbot_core::{Engine, EngineConfig, Library, Topology};

    /// The time every fixture is evaluated at (Unix ms): 2026-11-28T12:00:00Z.
    pub const AT: i64 = 1_795_867_200_000;
    /// Sample interval.
    pub const STEP_MS: i64 = 15_000;
    /// Samples per series: 5 minutes at 15 s, ending at [`AT`].
    pub const SAMPLES: i64 = 20;
    /// Series per node per metric (one per pod).
    pub const SERIES_PER_METRIC: usize = 3;
    /// The metric the topology reads healthy replica counts from.
    pub const REPLICAS_METRIC: &str = "kube_deployment_status_replicas_available";

    /// A node kind of the generated topologies.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Layer {
        /// Tier-1 services at the edge.
        Frontend,
        /// Tier-2 services.
        Mid,
        /// Tier-3 services that call the stores.
        Backend,
        /// Databases.
        Database,
        /// Caches.
        Cache,
    }

    impl Layer {
        /// The node kind in the document language.
        pub fn kind(self) -> &'static str {
            match self {
                Layer::Frontend | Layer::Mid | Layer::Backend => "service",
                Layer::Database => "database",
                Layer::Cache => "cache",
            }
        }

        fn prefix(self) -> &'static str {
            match self {
                Layer::Frontend => "fe",
                Layer::Mid => "mid",
                Layer::Backend => "be",
                Layer::Database => "db",
                Layer::Cache => "cache",
            }
        }

        fn tier(self) -> u8 {
            match self {
                Layer::Frontend | Layer::Database => 1,
                Layer::Mid | Layer::Cache => 2,
                Layer::Backend => 3,
            }
        }

        fn replicas(self) -> u32 {
            match self {
                Layer::Frontend | Layer::Mid | Layer::Backend => 3,
                Layer::Database => 2,
                Layer::Cache => 1,
            }
        }
    }

    /// One node of a generated topology.
    #[derive(Clone, Debug)]
    pub struct NodeSpec {
        /// Node id (`be-7`).
        pub id: String,
        /// Its layer.
        pub layer: Layer,
        /// Its `team` label.
        pub team: String,
        /// Its direct dependencies.
        pub depends_on: Vec<String>,
    }

    /// A layered topology of `n` nodes (n ≥ 10): 10 % frontends, 40 % mid
    /// services, 30 % backends, 10 % databases, 10 % caches. Each frontend
    /// calls 3 mid services, each mid service 2 backends, each backend one
    /// database and one cache. Ten teams.
    pub fn topology_nodes(n: usize) -> Vec<NodeSpec> {
        let fe = n / 10;
        let mid = 4 * n / 10;
        let be = 3 * n / 10;
        let db = n / 10;
        let cache = n - fe - mid - be - db;
        let name = |l: Layer, i: usize| format!("{}-{i}", l.prefix());
        let mut nodes = Vec::with_capacity(n);
        let mut push = |layer: Layer, i: usize, depends_on: Vec<String>| {
            let team = format!("team-{}", nodes.len() % 10);
            nodes.push(NodeSpec { id: name(layer, i), layer, team, depends_on });
        };
        for i in 0..fe {
            push(Layer::Frontend, i, (0..3).map(|k| name(Layer::Mid, (3 * i + k) % mid)).collect());
        }
        for i in 0..mid {
            push(Layer::Mid, i, (0..2).map(|k| name(Layer::Backend, (2 * i + k) % be)).collect());
        }
        for i in 0..be {
            push(Layer::Backend, i, vec![name(Layer::Database, i % db), name(Layer::Cache, i % cache)]);
        }
        for i in 0..db {
            push(Layer::Database, i, Vec::new());
        }
        for i in 0..cache {
            push(Layer::Cache, i, Vec::new());
        }
        nodes
    }

    /// The Topology document of `nodes`, attaching telemetry by `service`.
    pub fn topology_yaml(nodes: &[NodeSpec]) -> String {
        let mut s = String::from("apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: bench}\nspec:\n");
        let _ = writeln!(s, "  attach_by: [service]\n  replicas_metric: {REPLICAS_METRIC}\n  nodes:");
        for n in nodes {
            let _ = writeln!(
                s,
                "    - {{id: {}, kind: {}, tier: {}, replicas: {}, labels: {{team: {}}}, depends_on: [{}]}}",
                n.id,
                n.layer.kind(),
                n.layer.tier(),
                n.layer.replicas(),
                n.team,
                n.depends_on.join(", ")
            );
        }
        s
    }

    /// A compiled topology of `n` nodes (see [`topology_nodes`]).
    pub fn topology(n: usize) -> (Vec<NodeSpec>, Topology) {
        let nodes = topology_nodes(n);
        let topology = Topology::from_text("topology.yaml", &topology_yaml(&nodes)).unwrap();
        (nodes, topology)
    }

    /// A metric the generated libraries read: its name, its value on a
    /// healthy node and on a sick one, and whether it is a counter (then the
    /// values are its increase per 15 s).
    #[derive(Clone, Copy, Debug)]
    pub struct Metric {
        /// Metric name.
        pub name: &'static str,
        /// Value (or increase per sample for a counter) on a healthy node.
        pub healthy: f64,
        /// The same on a sick node.
        pub sick: f64,
        /// Whether the series is a monotonic counter.
        pub counter: bool,
    }

    const fn m(name: &'static str, healthy: f64, sick: f64, counter: bool) -> Metric {
        Metric { name, healthy, sick, counter }
    }

    /// What services export.
    pub const SERVICE_METRICS: [Metric; 8] = [
        m("http_server_error_ratio", 0.01, 0.2, false),
        m("http_server_latency_p99_seconds", 0.2, 2.5, false),
        m("http_server_requests_total", 100.0, 60.0, true),
        m("process_cpu_usage_ratio", 0.3, 0.95, false),
        m("process_memory_usage_ratio", 0.5, 0.9, false),
        m("db_client_connections_usage_ratio", 0.4, 0.99, false),
        m("thread_pool_active_ratio", 0.3, 0.97, false),
        m("jvm_gc_pause_seconds", 0.01, 0.5, false),
    ];
    /// What databases export.
    pub const DATABASE_METRICS: [Metric; 4] = [
        m("db_up", 1.0, 0.0, false),
        m("db_connections_active_ratio", 0.3, 0.99, false),
        m("db_replication_lag_seconds", 0.1, 30.0, false),
        m("db_query_latency_p99_seconds", 0.01, 1.5, false),
    ];
    /// What caches export.
    pub const CACHE_METRICS: [Metric; 3] = [
        m("cache_hit_ratio", 0.95, 0.3, false),
        m("cache_evictions_total", 5.0, 500.0, true),
        m("cache_memory_usage_ratio", 0.6, 0.99, false),
    ];

    /// The metrics a node of `layer` exports.
    pub fn metrics_of(layer: Layer) -> &'static [Metric] {
        match layer {
            Layer::Frontend | Layer::Mid | Layer::Backend => &SERVICE_METRICS,
            Layer::Database => &DATABASE_METRICS,
            Layer::Cache => &CACHE_METRICS,
        }
    }

    /// The action library every fixture uses: the guards of
    /// `examples/shop/actions.yaml`, with a blast-radius limit the generated
    /// topologies pass.
    pub const ACTIONS_YAML: &str = r#"apiVersion: healbot.dev/v1
kind: ActionLibrary
metadata: {name: bench-actions}
spec:
  actions:
    - id: restart_service
      title: Rolling restart of the service
      operation: restart
      risk: medium
      min_confidence: 0.8
      parameters: {strategy: rolling, max_unavailable: 1}
      guards:
        - dependencies_healthy: {transitive: true}
        - min_healthy_replicas: 1
        - max_blast_radius: {max: 200, tier_weighted: true}
        - cooldown: 15m
        - throttle: {key: node.label.team, max: 2, per: 1h}
        - max_concurrent: {key: node.label.team, max: 1}
        - budget: {max: 10, per: 1h}
        - circuit_breaker: {failures: 3, reset_after: 2h}
    - id: failover_database
      title: Fail the database over to its standby
      operation: failover
      risk: medium
      min_confidence: 0.7
      guards:
        - cooldown: 30m
        - circuit_breaker: {failures: 2, reset_after: 1h}
    - id: page_owner
      title: Page the owning team
      operation: page
      risk: low
      min_confidence: 0.0
"#;

    fn header(name: &str) -> String {
        format!(
            "apiVersion: healbot.dev/v1\nkind: SignatureLibrary\nmetadata: {{name: {name}}}\nspec:\n  signatures:\n"
        )
    }

    /// A threshold between a metric's healthy and sick values: the
    /// predicate holds on a sick node only. `op` is `>` when sick is larger.
    fn midpoint(m: &Metric) -> (&'static str, f64) {
        let op = if m.sick > m.healthy { ">" } else { "<" };
        (op, (m.healthy + m.sick) / 2.0)
    }

    /// Predicate `k` of generated signature `i`, as a YAML list item.
    fn predicate(i: usize, k: usize, metrics: &[Metric], matches_sick: bool, indent: &str) -> String {
        const AGGS: [&str; 6] = ["avg", "max", "last", "min", "quantile", "sum"];
        const WINDOWS: [&str; 3] = ["1m", "2m", "5m"];
        let metric = &metrics[(i + 3 * k) % metrics.len()];
        let agg = if metric.counter { "rate" } else { AGGS[(i + k) % AGGS.len()] };
        let window = WINDOWS[(i + k) % WINDOWS.len()];
        let (op, mut threshold) = midpoint(metric);
        // A counter's rate is per second: scale the per-sample increase.
        let scale = if metric.counter { 1000.0 / STEP_MS as f64 } else { 1.0 };
        // A sum over the window adds up several samples.
        let scale = if agg == "sum" { scale * 4.0 } else { scale };
        threshold *= scale;
        if !matches_sick {
            threshold = if op == ">" { metric.sick.max(metric.healthy) * scale * 3.0 + 1.0 } else { -1.0 };
        }
        let q = if agg == "quantile" { ", q: 0.9" } else { "" };
        let labels = if (i + k) % 3 == 0 { r#", labels: ['instance=~"pod-[0-9]+"']"# } else { "" };
        format!(
            "{indent}- metric: {{name: {}{labels}, agg: {agg}{q}, window: {window}, op: \"{op}\", threshold: {threshold}}}\n",
            metric.name
        )
    }

    /// A library of `n` generated signatures plus [`ACTIONS_YAML`].
    ///
    /// Signature `i` applies to databases (i % 10 == 0), caches
    /// (i % 10 == 1) or services, and is `all` of three metric predicates
    /// and an `any` of two (five predicates, varied aggregates, windows of
    /// 1m to 5m, a label regex on one in three). One signature in twenty has
    /// thresholds between healthy and sick values and so matches on the
    /// sick nodes; the rest never hold (thresholds past the sick values).
    pub fn library_yaml(n: usize) -> String {
        let mut s = header("bench");
        for i in 0..n {
            let (kind, metrics, category, actions) = match i % 10 {
                0 => ("database", &DATABASE_METRICS[..], "unavailable", "[failover_database, page_owner]"),
                1 => ("cache", &CACHE_METRICS[..], "resource", "[page_owner]"),
                k => (
                    "service",
                    &SERVICE_METRICS[..],
                    ["errors", "latency", "saturation", "resource"][k % 4],
                    "[restart_service, page_owner]",
                ),
            };
            let matches_sick = i % 20 == 0 || i % 20 == 11 || i % 20 == 5;
            let _ = write!(
                s,
                "    - id: gen.{i:04}\n      title: Generated signature {i}\n      category: {category}\n      severity: warning\n      applies_to: {{kinds: [{kind}]}}\n      match:\n        all:\n"
            );
            for k in 0..3 {
                s.push_str(&predicate(i, k, metrics, matches_sick, "          "));
            }
            s.push_str("          - any:\n");
            for k in 3..5 {
                s.push_str(&predicate(i, k, metrics, matches_sick, "              "));
            }
            let _ = writeln!(s, "      actions: {actions}");
        }
        s.push_str("---\n");
        s.push_str(ACTIONS_YAML);
        s
    }

    /// One signature of exactly 20 predicates (18 in `match`, 2 evidence
    /// items), applying to the node `node` only (`applies_to` labels on its
    /// id). Every predicate holds on a sick backend service whose database
    /// is healthy; its remediation is `restart_service`, then `page_owner`.
    ///
    /// Predicates: eleven metric aggregates (avg, max, rate, quantile, last,
    /// avg with a label regex, min, sum, count, increase, slope), an alert
    /// and a log pattern under `any`, `not absent`, a dependency of kind
    /// database healthy, healthy replicas, `not` a Kubernetes event count,
    /// `at_least` over one more metric; evidence: two metric aggregates.
    pub fn sig20_yaml(node: &str) -> String {
        let mut s = header("sig20");
        let _ = write!(
            s,
            r#"    - id: svc.overload
      title: Service overloaded
      category: saturation
      severity: critical
      applies_to:
        kinds: [service]
        labels: ['id="{node}"']
      match:
        all:
          - metric: {{id: error_ratio, name: http_server_error_ratio, agg: avg, window: 2m, op: ">", threshold: 0.05}}
          - metric: {{name: http_server_latency_p99_seconds, agg: max, window: 2m, op: ">", threshold: 1.0}}
          - metric: {{name: http_server_requests_total, agg: rate, window: 1m, op: ">", threshold: 1}}
          - metric: {{name: process_cpu_usage_ratio, agg: quantile, q: 0.9, window: 5m, op: ">", threshold: 0.8}}
          - metric: {{name: process_memory_usage_ratio, agg: last, window: 1m, op: ">", threshold: 0.85}}
          - metric: {{name: db_client_connections_usage_ratio, labels: ['instance=~"pod-[0-9]+"'], agg: avg, window: 1m, op: ">=", threshold: 0.95}}
          - metric: {{name: thread_pool_active_ratio, agg: min, window: 2m, op: ">", threshold: 0.9}}
          - metric: {{name: jvm_gc_pause_seconds, agg: sum, window: 2m, op: ">", threshold: 1.0}}
          - metric: {{name: http_server_requests_total, agg: count, window: 2m, op: ">=", threshold: 4}}
          - metric: {{name: http_server_requests_total, agg: increase, window: 5m, op: ">", threshold: 100}}
          - metric: {{name: process_memory_usage_ratio, agg: slope, window: 5m, op: ">", threshold: 0}}
          - any:
              - alert: {{name: HighErrorRate}}
              - log: {{contains_any: ["connection refused", "pool exhausted"], window: 5m, threshold: 1}}
          - not: {{absent: {{metric: http_server_requests_total, for: 2m}}}}
          - dependency: {{kind: database, state: healthy}}
          - replicas: {{min_healthy: 2}}
          - not: {{event: {{reason: BackOff, type: Warning, window: 10m, threshold: 3}}}}
          - at_least:
              n: 1
              of:
                - metric: {{name: http_server_latency_p99_seconds, agg: avg, window: 1m, op: ">", threshold: 1.0}}
      evidence:
        - id: errors_sustained
          when: {{metric: {{name: http_server_error_ratio, agg: max, window: 5m, op: ">", threshold: 0.1}}}}
          weight: 1.0
        - id: pool_full
          when: {{metric: {{name: db_client_connections_usage_ratio, agg: last, window: 1m, op: ">=", threshold: 0.9}}}}
          weight: 1.0
      actions: [restart_service, page_owner]
"#
        );
        s.push_str("---\n");
        s.push_str(ACTIONS_YAML);
        s
    }

    /// The value of sample `k` (0 = oldest) of series `pod` of a metric.
    fn value(m: &Metric, sick: bool, pod: usize, k: i64) -> f64 {
        let base = if sick { m.sick } else { m.healthy };
        // ±2 % deterministic jitter, different per pod and sample.
        let jitter = 1.0 + 0.02 * (((k as usize * 7 + pod * 13) % 11) as f64 / 5.0 - 1.0);
        if m.counter {
            // Cumulative: `base` per step, from a per-pod offset.
            1_000.0 * pod as f64 + base * (k + 1) as f64
        } else if m.name == "process_memory_usage_ratio" && sick {
            // A leak: rising through the window.
            base - 0.002 * (SAMPLES - 1 - k) as f64
        } else {
            base * jitter
        }
    }

    /// Feeds `engine` 5 minutes of samples ending at [`AT`]: three series
    /// (`instance` pod-0..2) per node per metric of its layer, plus a
    /// replica count per node. Nodes in `sick` get sick values. Metrics no
    /// signature reads are counted and dropped by the engine, as in
    /// production. Returns the number of series stored.
    pub fn feed(engine: &mut Engine, nodes: &[NodeSpec], sick: &[&str]) -> usize {
        let mut series = 0;
        for n in nodes {
            let is_sick = sick.contains(&n.id.as_str());
            for m in metrics_of(n.layer) {
                for pod in 0..SERIES_PER_METRIC {
                    let labels: Labels = [("service", n.id.as_str()), ("instance", &format!("pod-{pod}"))]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    let Some(handle) = engine.resolve_series(m.name, &labels).unwrap() else { continue };
                    series += 1;
                    for k in 0..SAMPLES {
                        let at = AT - (SAMPLES - 1 - k) * STEP_MS;
                        engine.ingest_by_handle(handle, value(m, is_sick, pod, k), at);
                    }
                }
            }
            let labels: Labels = [("service", n.id.as_str())].into_iter().collect();
            if let Some(handle) = engine.resolve_series(REPLICAS_METRIC, &labels).unwrap() {
                series += 1;
                let replicas = f64::from(n.layer.replicas());
                for k in 0..SAMPLES {
                    engine.ingest_by_handle(handle, replicas, AT - (SAMPLES - 1 - k) * STEP_MS);
                }
            }
        }
        series
    }

    /// A firing `HighErrorRate` alert and three pool-exhaustion log lines on `node`.
    pub fn feed_incident(engine: &mut Engine, node: &str) {
        let labels: Labels = [("service", node), ("alertname", "HighErrorRate")].into_iter().collect();
        engine.ingest_alert(&Alert {
            name: "HighErrorRate".into(),
            labels,
            annotations: Labels::new(),
            status: AlertStatus::Firing,
            starts_at: AT - 120_000,
            ends_at: None,
            fingerprint: format!("fp-{node}"),
            generator_url: None,
        });
        for k in 0..3 {
            engine.ingest_log(&LogRecord {
                body: format!("ERROR HikariPool-1 - pool exhausted, timeout waiting for connection (attempt {k})"),
                attributes: [("service", node)].into_iter().collect(),
                severity: None,
                at: AT - 60_000 + k * 1_000,
            });
        }
    }

    /// An engine over `library` (YAML) and `topology`, with default settings.
    pub fn engine(library: &str, topology: &Topology) -> Engine {
        let library = Library::from_text("library.yaml", library).unwrap();
        Engine::new(library, topology.clone(), EngineConfig::default()).unwrap()
    }

    /// One execution the host reported, and its outcome (success, at), if any.
    pub type HistoryEntry = (Execution, Option<(bool, i64)>);

    /// A ledger history of ten executions of `restart_service` (and two of
    /// `failover_database`) over the last two hours, none on `target` and
    /// none in its team within the throttle window, with outcomes such that
    /// every guard of `restart_service` still passes on `target`: 5
    /// unattended in the last hour (budget 10), the last two outcomes of
    /// `restart_service` failed (breaker opens at 3), nothing in flight in
    /// the target's team. Returns (execution, outcome) pairs in report order.
    pub fn ledger_history(nodes: &[NodeSpec], target: &str) -> Vec<HistoryEntry> {
        let team = &nodes.iter().find(|n| n.id == target).unwrap().team;
        let others: Vec<&NodeSpec> =
            nodes.iter().filter(|n| n.layer == Layer::Backend && &n.team != team && n.id != target).collect();
        let dbs: Vec<&NodeSpec> = nodes.iter().filter(|n| n.layer == Layer::Database).collect();
        let mut out = Vec::new();
        for i in 0..10i64 {
            let (action, node) = if i % 5 == 4 {
                ("failover_database", dbs[i as usize % dbs.len()])
            } else {
                ("restart_service", others[(i as usize * 7) % others.len()])
            };
            // Every 12 minutes back from 10 minutes ago.
            let at = AT - 600_000 - i * 720_000;
            let execution = Execution {
                decision_id: format!("d-hist-{i:02}"),
                signature: String::new(),
                action: action.into(),
                target: node.id.clone(),
                at,
                unattended: i % 2 == 0,
            };
            // The two most recent restarts failed; the rest succeeded.
            let success = !(action == "restart_service" && i < 2);
            out.push((execution, Some((success, at + 300_000))));
        }
        out
    }

    /// Reports `history` to the engine as the host would.
    pub fn record(engine: &mut Engine, history: &[HistoryEntry]) {
        for (e, outcome) in history {
            engine.record_execution(&e.decision_id, &e.action, &e.target, e.at, e.unattended).unwrap();
            if let Some((success, at)) = outcome {
                engine.record_outcome(&e.decision_id, *success, *at).unwrap();
            }
        }
    }

    /// The `decision` bench's state: one 20-predicate signature applying to
    /// the sick `target`, every node fed ([`feed`]), the incident on
    /// `target` and its [`ledger_history`] recorded. Returns the engine and
    /// how many series it holds.
    pub fn decision_state(nodes: &[NodeSpec], topology: &Topology, target: &str) -> (Engine, usize) {
        let mut engine = engine(&sig20_yaml(target), topology);
        let series = feed(&mut engine, nodes, &[target]);
        feed_incident(&mut engine, target);
        record(&mut engine, &ledger_history(nodes, target));
        (engine, series)
    }
}

pub mod cascade {
    //! The scenario of `benches/python/bench_ingest.py` (section 3), built in
    //! Rust so that its evaluation can be measured and profiled without
    //! Python: six layers of 100 services, each calling three of the next
    //! layer, the last layer calling four databases; `db-0` goes down a
    //! third of the way through 20 rounds 15 s apart, and every service
    //! that reaches it reports errors, a full pool and pool timeouts in its
    //! logs. 22 signatures (20 of them log-only) and the same actions.
    use std::fmt::Write as _;

    use healbot_core::telemetry::Labels;
    use healbot_core::{Engine, EngineConfig, Library, Topology};

    const LAYERS: usize = 6;
    const WIDTH: usize = 100;
    const DATABASES: usize = 4;
    const ROUNDS: i64 = 20;
    const T0: i64 = 1_700_000_000_000;

    /// The scenario's library, shared with `benches/python/bench_ingest.py`.
    fn library() -> &'static str {
        include_str!("../data/e2e-library.yaml")
    }

    fn topology() -> String {
        let mut s =
            String::from("apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: e2e}\nspec:\n  nodes:\n");
        for layer in 0..LAYERS {
            for i in 0..WIDTH {
                let mut deps: Vec<String> = if layer + 1 < LAYERS {
                    (0..3).map(|k| format!("svc-{}-{}", layer + 1, (i + k) % WIDTH)).collect()
                } else {
                    vec![format!("db-{}", i % DATABASES)]
                };
                deps.sort();
                deps.dedup();
                let tier = (1 + layer * 4 / LAYERS).min(4);
                let _ = writeln!(
                    s,
                    "    - {{id: svc-{layer}-{i}, kind: service, tier: {tier}, depends_on: [{}]}}",
                    deps.join(", ")
                );
            }
        }
        for d in 0..DATABASES {
            let _ = writeln!(s, "    - {{id: db-{d}, kind: database, tier: 1}}");
        }
        s
    }

    /// Every transitive dependent of `db-0` (the services the outage hits).
    fn hit() -> Vec<Vec<bool>> {
        let mut hit = vec![vec![false; WIDTH]; LAYERS];
        for i in (0..WIDTH).filter(|i| i % DATABASES == 0) {
            hit[LAYERS - 1][i] = true;
        }
        for layer in (0..LAYERS - 1).rev() {
            for i in 0..WIDTH {
                hit[layer][i] = (0..3).any(|k| hit[layer + 1][(i + k) % WIDTH]);
            }
        }
        hit
    }

    /// An engine that has received the whole scenario, and the time of its
    /// last round (when to evaluate).
    pub fn engine() -> (Engine, i64) {
        rounds(|_, _| {})
    }

    /// [`engine`], calling `after_round` with the engine and the round's
    /// time after each round's telemetry (where a host evaluates).
    pub fn rounds(mut after_round: impl FnMut(&mut Engine, i64)) -> (Engine, i64) {
        let library = Library::from_text("e2e-library.yaml", library()).unwrap();
        let topology = Topology::from_text("e2e-topology.yaml", &topology()).unwrap();
        let mut engine = Engine::new(library, topology, EngineConfig::default()).unwrap();
        let hit = hit();
        let benign =
            ["GET /api/cart 200 12ms", "user session refreshed", "cache hit ratio 0.93", "request completed in 8ms"];
        let mut at = T0;
        for r in 0..ROUNDS {
            at = T0 + 15_000 * r;
            let down = r >= ROUNDS / 3;
            for d in 0..DATABASES {
                let labels: Labels = [("service", format!("db-{d}"))].into_iter().collect();
                let up = if down && d == 0 { 0.0 } else { 1.0 };
                engine.ingest_metric("up", &labels, up, at).unwrap();
            }
            if down {
                let labels: Labels = [("service", "db-0")].into_iter().collect();
                engine.ingest_log_lines(&labels, None, [(&b"ECONNREFUSED"[..], at)]);
            }
            for (layer, row) in hit.iter().enumerate() {
                for (i, &is_hit) in row.iter().enumerate() {
                    let service = format!("svc-{layer}-{i}");
                    let sick = down && is_hit;
                    let labels: Labels =
                        [("service", service.clone()), ("instance", format!("{service}:9100"))].into_iter().collect();
                    for (name, ok, bad) in
                        [("error_ratio", 0.01, 0.3), ("latency_p99", 0.2, 2.5), ("pool_usage", 0.4, 0.99)]
                    {
                        engine.ingest_metric(name, &labels, if sick { bad } else { ok }, at).unwrap();
                    }
                    let lines: Vec<&str> = (0..20)
                        .map(|k| match () {
                            _ if sick && k % 8 == 0 => "timeout waiting for connection from pool",
                            _ if sick && k % 4 == 0 => "dial: connection refused",
                            _ if i == 7 && k == 1 => "java.lang.OutOfMemoryError: Java heap space",
                            _ => benign[(k + r as usize) % benign.len()],
                        })
                        .collect();
                    engine.ingest_log_lines(&labels, None, lines.iter().map(|l| (l.as_bytes(), at)));
                }
            }
            after_round(&mut engine, at);
        }
        (engine, at)
    }
}

pub mod rng {
    //! A deterministic generator for the generated fixtures.

    /// xorshift64*: the same sequence for the same seed, no `rand` needed.
    ///
    /// ```
    /// use healbot_benches::rng::XorShift;
    /// let (mut a, mut b) = (XorShift(7), XorShift(7));
    /// assert_eq!(a.below(10), b.below(10));
    /// assert!(a.below(3) < 3);
    /// ```
    #[derive(Clone, Debug)]
    pub struct XorShift(pub u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// A number below `n` (n > 0).
        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }
}

pub mod loghub {
    //! The Loghub 2k corpora, read in place beside the workspace (never
    //! copied into the project), for the `logmatch` bench and the `loghub`
    //! evaluation.

    use std::path::PathBuf;

    /// `shared/corpora/loghub-2k` beside the workspace root or beside an
    /// ancestor of it (a git worktree kept one level further down), when
    /// there is one.
    pub fn corpus_dir() -> Option<PathBuf> {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        manifest.ancestors().map(|a| a.join("shared/corpora/loghub-2k")).find(|p| p.is_dir())
    }

    /// Splits one CSV record (double-quoted fields may hold commas and `""`).
    ///
    /// ```
    /// use healbot_benches::loghub::csv_fields;
    /// assert_eq!(csv_fields(r#"E1,"a, ""b""",c"#), ["E1", r#"a, "b""#, "c"]);
    /// ```
    pub fn csv_fields(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => out.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        out.push(field);
        out
    }
}

pub mod timing {
    //! Clock-reading helpers for latency distributions (a benchmark may
    //! read a clock; the core never does).

    use std::hint::black_box;
    use std::time::Instant;

    /// The latency of each of `n` single calls of `f`, after `warmup` calls,
    /// sorted ascending, in nanoseconds. Each sample includes one
    /// `Instant::now()` pair (see [`clock_overhead_ns`]).
    pub fn latencies<R>(n: usize, warmup: usize, mut f: impl FnMut() -> R) -> Vec<u64> {
        for _ in 0..warmup {
            black_box(f());
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            black_box(f());
            out.push(t.elapsed().as_nanos() as u64);
        }
        out.sort_unstable();
        out
    }

    /// The `p`-quantile (0..=1) of sorted samples (nearest rank).
    pub fn percentile(sorted: &[u64], p: f64) -> u64 {
        if sorted.is_empty() {
            return 0;
        }
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// The median cost of one `Instant::now()` + `elapsed()` pair around an
    /// empty call, in nanoseconds.
    pub fn clock_overhead_ns() -> u64 {
        percentile(&latencies(100_000, 10_000, || ()), 0.5)
    }

    /// The median over `rounds` batches of the mean time per call in a batch
    /// of `batch` calls, in nanoseconds: for costs near the clock's
    /// resolution, and for differences between two setups measured in the
    /// same run.
    pub fn batched_median_ns<R>(rounds: usize, batch: usize, mut f: impl FnMut() -> R) -> f64 {
        for _ in 0..batch {
            black_box(f());
        }
        let mut means: Vec<f64> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..batch {
                    black_box(f());
                }
                t.elapsed().as_nanos() as f64 / batch as f64
            })
            .collect();
        means.sort_by(f64::total_cmp);
        means[means.len() / 2]
    }

    /// A line of p50/p90/p99/p99.9/max for a sorted sample set.
    pub fn summary(name: &str, sorted: &[u64]) -> String {
        format!(
            "{name:<34} n={:<7} p50={:>8} ns  p90={:>8} ns  p99={:>8} ns  p99.9={:>8} ns  max={:>9} ns",
            sorted.len(),
            percentile(sorted, 0.5),
            percentile(sorted, 0.9),
            percentile(sorted, 0.99),
            percentile(sorted, 0.999),
            sorted.last().copied().unwrap_or(0)
        )
    }
}

pub mod args {
    //! The command line criterion sees, for setups outside criterion's own
    //! filtering (fixtures and same-run measurements).

    /// Criterion options that take a value.
    const WITH_VALUE: [&str; 14] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--profile-time",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--output-format",
        "--color",
        "--plotting-backend",
    ];

    fn filters() -> Vec<String> {
        let mut out = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if WITH_VALUE.contains(&a.as_str()) {
                args.next();
            } else if !a.starts_with('-') {
                out.push(a);
            }
        }
        out
    }

    /// Whether a benchmark group (`evaluate`, `sig20`, …) is selected by the
    /// positional filter, if any: a filter selects the groups it starts with
    /// or that start with it.
    pub fn selected(group: &str) -> bool {
        let f = filters();
        f.is_empty() || f.iter().any(|f| f.starts_with(group) || group.starts_with(f.as_str()))
    }

    /// Whether criterion runs in test mode (`--test`, or `cargo test
    /// --benches`, which passes no `--bench`): same-run extras then run short.
    pub fn quick() -> bool {
        let args: Vec<String> = std::env::args().collect();
        args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
    }

    /// Whether criterion only profiles (`--profile-time`): extras are skipped.
    pub fn profiling() -> bool {
        std::env::args().any(|a| a == "--profile-time")
    }
}
