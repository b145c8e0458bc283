//! What the matcher reads from the engine's state: series aggregates, log
//! and event counts, alerts, node health and replicas.

use std::collections::BTreeMap;

use super::memo::{Reading, Recall};
use super::{Engine, HostHealth};
use crate::matcher::{series_matches, CompiledMatcher, Facts};
use crate::spec::signature::EventTypeFilter;
use crate::spec::{Aggregation, Comparison, NodeKind};
use crate::telemetry::Labels;
use crate::topology::{NodeId, Topology, Traversal};
use crate::window::{BucketCounter, SeriesId, Validity};
use crate::Duration;

/// Node health at one evaluation: host overrides first, then diagnoses.
#[derive(Debug, Default)]
pub(crate) struct Health {
    unhealthy: Vec<bool>,
    host: Vec<Option<HostHealth>>,
}

impl Health {
    /// Health from the host's overrides over `nodes` nodes, reusing the
    /// buffers of `reuse` (the previous evaluation's) so an evaluation
    /// allocates nothing here.
    pub(crate) fn from_host(host: &BTreeMap<u32, HostHealth>, nodes: usize, reuse: Health) -> Health {
        let Health { mut unhealthy, host: mut h } = reuse;
        unhealthy.clear();
        unhealthy.resize(nodes, false);
        h.clear();
        h.resize(nodes, None);
        for (n, v) in host {
            if let Some(slot) = h.get_mut(*n as usize) {
                *slot = Some(*v);
            }
        }
        Health { unhealthy, host: h }
    }

    pub(crate) fn mark(&mut self, n: NodeId) {
        if let Some(u) = self.unhealthy.get_mut(n.index()) {
            *u = true;
        }
    }

    /// Whether the node counts as unhealthy.
    pub(crate) fn is_unhealthy(&self, n: NodeId) -> bool {
        match self.host.get(n.index()).copied().flatten() {
            Some(HostHealth::Healthy) => false,
            Some(HostHealth::Unhealthy) => true,
            None => self.unhealthy.get(n.index()).copied().unwrap_or(false),
        }
    }
}

pub(crate) struct StateFacts<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) at: i64,
    pub(crate) health: &'a Health,
    pub(crate) topo: &'a Topology,
    /// Reused traversal buffers for dependency predicates.
    pub(crate) scratch: &'a std::cell::RefCell<Traversal>,
    /// Aggregates and predicate values kept from earlier reads.
    pub(crate) reads: &'a std::cell::RefCell<Recall>,
}

impl StateFacts<'_> {
    fn series(&self, n: NodeId, metric: u32) -> &[(SeriesId, Labels)] {
        let Some(&key) = self.engine.program.metric_keys.get(metric as usize) else { return &[] };
        self.engine.state.series_by_node.get(n.index() as u32, key)
    }

    /// Share of the metrics a signature reads that have a fresh series on the node.
    pub(crate) fn coverage(&self, n: NodeId, reads: &[u32]) -> f64 {
        if reads.is_empty() {
            return 1.0;
        }
        let stale = self.engine.config.staleness.as_millis_i64();
        let fresh = reads
            .iter()
            .filter(|m| {
                self.series(n, **m).iter().any(|(id, _)| {
                    self.engine.state.series.last_at(*id).is_some_and(|t| self.at.saturating_sub(t) <= stale)
                })
            })
            .count();
        fresh as f64 / reads.len() as f64
    }

    /// A log or event counter's count over the window, as if it had been
    /// evicted at the latest evaluation (the engine evicts it lazily).
    fn count(&self, counter: &BucketCounter, window: Duration) -> u64 {
        counter.count_after_evict(window, self.at, self.engine.state.last_evaluated.unwrap_or(i64::MIN))
    }
}

impl Facts for StateFacts<'_> {
    fn metric(
        &self,
        pred: u32,
        n: NodeId,
        metric: u32,
        labels: &[CompiledMatcher],
        agg: Aggregation,
        q: f64,
        window: Duration,
        op: Comparison,
    ) -> Option<f64> {
        let listed = self.series(n, metric);
        let &(first, _) = listed.first()?;
        let store = &self.engine.state.series;
        let mut recall = self.reads.borrow_mut();
        let Recall { reads, metrics } = &mut *recall;
        // A node's series of a metric are scraped together: when the first
        // changed since its last read, so did the others, and a kept value
        // could not hold (nor one kept now be used before they change again).
        let fold = |best: Option<f64>, v: f64| {
            Some(match (best, op) {
                (None, _) => v,
                (Some(b), Comparison::Lt | Comparison::Le) => b.min(v),
                (Some(b), Comparison::Gt | Comparison::Ge) => b.max(v),
                (Some(b), _) => b,
            })
        };
        if store.changed_since_read(first) {
            return listed
                .iter()
                .filter(|(_, l)| series_matches(labels, l))
                .filter_map(|(id, _)| store.aggregate_cached(reads, *id, agg, q, window, self.at))
                .fold(None, fold);
        }
        let bound = (store.instance(), self.engine.library_instance);
        let start = store.window_start(window, self.at);
        let probe = match metrics.get(bound, pred, n.index() as u32, listed, store, start, self.at) {
            Ok(value) => return value,
            Err(probe) => probe,
        };
        let mut best: Option<f64> = None;
        // What the value is kept under.
        let mut reading = Reading::new(first);
        for (id, l) in listed {
            if !series_matches(labels, l) {
                reading.add(*id, None);
                continue;
            }
            // Listed but unknown to the store (the index drops evicted
            // series as the store evicts them): nothing to keep.
            let (value, valid) =
                store.aggregate_valid(reads, *id, agg, q, window, self.at).unwrap_or((None, Validity::NEVER));
            reading.add(*id, Some(valid));
            if let Some(v) = value {
                best = fold(best, v);
            }
        }
        metrics.keep(probe, &reading, best);
        best
    }

    fn log_count(&self, n: NodeId, slot: u32, window: Duration) -> u64 {
        self.engine.state.logs.get(n.index() as u32, &slot).map_or(0, |c| self.count(c, window))
    }

    fn event_count(&self, n: NodeId, reason: u32, event_type: Option<EventTypeFilter>, window: Duration) -> u64 {
        let Some(&key) = self.engine.program.reason_keys.get(reason as usize) else { return 0 };
        let node = n.index() as u32;
        let count =
            |warning: bool| self.engine.state.events.get(node, &(key, warning)).map_or(0, |c| self.count(c, window));
        match event_type {
            Some(EventTypeFilter::Warning) => count(true),
            Some(EventTypeFilter::Normal) => count(false),
            None => count(true) + count(false),
        }
    }

    fn alert_firing(&self, n: NodeId, name: &str, labels: &[CompiledMatcher]) -> bool {
        self.engine.state.alerts.get(&(n.index() as u32)).is_some_and(|set| {
            set.values().any(|a| a.name == name && a.starts_at <= self.at && series_matches(labels, &a.labels))
        })
    }

    fn last_seen(&self, n: NodeId, metric: u32, labels: &[CompiledMatcher]) -> Option<i64> {
        self.series(n, metric)
            .iter()
            .filter(|(_, l)| series_matches(labels, l))
            .filter_map(|(id, _)| self.engine.state.series.last_at(*id))
            .max()
            .map(|t| self.at.saturating_sub(t))
    }

    fn dependencies(&self, n: NodeId, kind: Option<NodeKind>, transitive: bool) -> (usize, usize) {
        let mut scratch = self.scratch.borrow_mut();
        let deps: &[NodeId] =
            if transitive { self.topo.dependencies(n, &mut scratch) } else { self.topo.direct_dependencies(n) };
        let mut total = 0;
        let mut unhealthy = 0;
        for d in deps.iter().filter(|d| kind.is_none_or(|k| self.topo.node(**d).kind() == k)) {
            total += 1;
            unhealthy += usize::from(self.health.is_unhealthy(*d));
        }
        (total, unhealthy)
    }

    fn healthy_replicas(&self, n: NodeId) -> u32 {
        healthy_replicas(self.engine, self.health, n, self.at)
    }

    fn forecast(
        &self,
        n: NodeId,
        metric: u32,
        labels: &[CompiledMatcher],
        window: Duration,
        threshold: f64,
        op: Comparison,
    ) -> Option<f64> {
        let rising = matches!(op, Comparison::Gt | Comparison::Ge);
        self.series(n, metric)
            .iter()
            .filter(|(_, l)| series_matches(labels, l))
            .filter_map(|(id, _)| {
                let slope = self.engine.state.series.aggregate(*id, Aggregation::Slope, 0.0, window, self.at)?;
                let last = self.engine.state.series.aggregate(*id, Aggregation::Last, 0.0, window, self.at)?;
                let already = op.holds(last, threshold);
                if already {
                    return Some(0.0);
                }
                // Only a trend heading towards the threshold predicts a crossing.
                if (rising && slope <= 0.0) || (!rising && slope >= 0.0) {
                    return None;
                }
                self.engine.state.series.forecast_crossing(*id, window, self.at, threshold)
            })
            .min_by(f64::total_cmp)
    }
}

/// Healthy replicas of a node: the latest value of the topology's
/// `replicas_metric` when it has data, else the declared count when the node
/// is healthy and 0 when it is not.
pub(crate) fn healthy_replicas(engine: &Engine, health: &Health, n: NodeId, at: i64) -> u32 {
    if let Some(key) = engine.replicas_key {
        let list = engine.state.series_by_node.get(n.index() as u32, key);
        if !list.is_empty() {
            let v = list
                .iter()
                .filter_map(|(id, _)| {
                    engine.state.series.aggregate(*id, Aggregation::Last, 0.0, engine.config.staleness, at)
                })
                .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a + v)));
            if let Some(v) = v {
                return if v.is_finite() && v > 0.0 { v.min(f64::from(u32::MAX)) as u32 } else { 0 };
            }
        }
    }
    if health.is_unhealthy(n) {
        0
    } else {
        engine.topology.node(n).replicas()
    }
}
