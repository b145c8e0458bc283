//! The ledger: what the host reports back — the actions it executed and
//! their outcomes.
//!
//! The ledger feeds every guard that looks at history (cooldowns, throttles,
//! concurrency limits, the unattended budget and circuit breakers) and the
//! per (signature, action) success counts that feed confidence. It is part
//! of the engine's state and snapshots with serde.
//!
//! # Idempotent by decision id
//!
//! Hosts deliver at least once. An execution is keyed by its decision id:
//! recording the same id again changes nothing and returns `false`, and so
//! does a second outcome for the same id (the first report wins). Replaying
//! a whole log of reports therefore gives the same ledger.
//!
//! # Independent of arrival order
//!
//! Executions are kept ordered by `(at, decision id)` and outcomes by
//! `(outcome at, decision id)`, never by arrival, so every query answers the
//! same whatever order the reports came in.
//!
//! # Bounded memory
//!
//! [`Ledger::evict`] drops executions older than a time, except the
//! trailing run of failed outcomes of each action (at most
//! [`MAX_TRACKED_FAILURES`]) and the success that ends it, which a circuit
//! breaker still needs. The success counts behind [`Ledger::posterior`] are
//! kept: they are small (one pair per signature and action) and are what the
//! engine learns. After an
//! eviction, an execution older than the eviction time is refused, so a late
//! replay cannot count an outcome twice.
//!
//! # Example
//!
//! ```
//! use healbot_core::ledger::{Execution, Ledger};
//!
//! let mut ledger = Ledger::default();
//! let run = Execution {
//!     decision_id: "d-1".into(),
//!     signature: "db.down".into(),
//!     action: "failover".into(),
//!     target: "db".into(),
//!     at: 1_000,
//!     unattended: true,
//! };
//! assert!(ledger.record_execution(run.clone()));
//! assert!(!ledger.record_execution(run)); // at-least-once delivery: no double count
//! assert_eq!(ledger.record_outcome("d-1", true, 5_000), Ok(true));
//! assert_eq!(ledger.record_outcome("d-1", true, 5_000), Ok(false));
//! assert_eq!(ledger.posterior("db.down", "failover"), (1, 0));
//! assert!(ledger.record_outcome("d-2", true, 5_000).is_err());
//! ```

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// How many trailing failed outcomes per action survive [`Ledger::evict`]:
/// a circuit breaker with a larger `failures` threshold than this cannot
/// open on history older than the eviction time.
pub const MAX_TRACKED_FAILURES: usize = 1024;

/// An action the host executed, as it reports it.
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// The decision the host acted on: the idempotency key.
    pub decision_id: String,
    /// The signature of that decision (for the success counts).
    pub signature: String,
    /// The action id.
    pub action: String,
    /// The node id of the target, as the decision named it.
    pub target: String,
    /// When the host started it (Unix ms).
    pub at: i64,
    /// Whether it ran without a person approving it (counts against budgets).
    pub unattended: bool,
}

/// The reported outcome of an execution.
///
/// # Example
///
/// ```
/// use healbot_core::ledger::Outcome;
/// let o = Outcome { success: false, at: 2_000 };
/// assert!(!o.success);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Whether the action fixed what it was meant to fix.
    pub success: bool,
    /// When the outcome was known (Unix ms).
    pub at: i64,
}

/// One recorded execution and its outcome, if reported yet.
///
/// # Example
///
/// ```
/// use healbot_core::ledger::{Execution, Ledger};
/// let mut ledger = Ledger::default();
/// ledger.record_execution(Execution {
///     decision_id: "d-1".into(), signature: "s".into(), action: "restart".into(),
///     target: "api".into(), at: 1_000, unattended: false,
/// });
/// let entry = ledger.entry("d-1").unwrap();
/// assert_eq!(entry.execution.target, "api");
/// assert!(entry.outcome.is_none()); // in flight
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The execution.
    pub execution: Execution,
    /// Its outcome; `None` while it is in flight. (Always serialised:
    /// postcard snapshots are not self-describing.)
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

/// The serialised form: entries in `(at, decision id)` order, the success
/// counts, and the eviction watermark. Indexes are rebuilt on load.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LedgerDoc {
    entries: Vec<Entry>,
    posteriors: BTreeMap<String, BTreeMap<String, (u32, u32)>>,
    evicted_before: Option<i64>,
}

/// Executions and outcomes reported by the host. See the [module docs](self).
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "LedgerDoc", into = "LedgerDoc")]
pub struct Ledger {
    /// decision id → execution time (the key into `by_time`).
    by_id: BTreeMap<String, i64>,
    /// (execution at, decision id) → entry.
    by_time: BTreeMap<(i64, String), Entry>,
    /// action → (outcome at, decision id) → success.
    outcomes: BTreeMap<String, BTreeMap<(i64, String), bool>>,
    /// signature → action → (successes, failures).
    posteriors: BTreeMap<String, BTreeMap<String, (u32, u32)>>,
    /// The largest `before` given to `evict`.
    evicted_before: Option<i64>,
}

impl From<LedgerDoc> for Ledger {
    fn from(doc: LedgerDoc) -> Ledger {
        let mut ledger = Ledger { posteriors: doc.posteriors, evicted_before: doc.evicted_before, ..Ledger::default() };
        for entry in doc.entries {
            let id = entry.execution.decision_id.clone();
            let at = entry.execution.at;
            if ledger.by_id.contains_key(&id) {
                continue;
            }
            if let Some(o) = entry.outcome {
                ledger
                    .outcomes
                    .entry(entry.execution.action.clone())
                    .or_default()
                    .insert((o.at, id.clone()), o.success);
            }
            ledger.by_id.insert(id.clone(), at);
            ledger.by_time.insert((at, id), entry);
        }
        ledger
    }
}

impl From<Ledger> for LedgerDoc {
    fn from(ledger: Ledger) -> LedgerDoc {
        LedgerDoc {
            entries: ledger.by_time.into_values().collect(),
            posteriors: ledger.posteriors,
            evicted_before: ledger.evicted_before,
        }
    }
}

/// The smallest `(at, id)` key with this time: the empty string sorts first.
fn time_key(at: i64) -> (i64, String) {
    (at, String::new())
}

impl Ledger {
    /// An empty ledger.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(healbot_core::ledger::Ledger::new().is_empty());
    /// ```
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Records an execution. Returns `false`, changing nothing, when its
    /// decision id is already recorded (at-least-once delivery) or when it
    /// is older than a previous [`Ledger::evict`] (a late replay of history
    /// already forgotten).
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn record_execution(&mut self, e: Execution) -> bool {
        if self.by_id.contains_key(&e.decision_id) || self.evicted_before.is_some_and(|b| e.at < b) {
            return false;
        }
        self.by_id.insert(e.decision_id.clone(), e.at);
        self.by_time.insert((e.at, e.decision_id.clone()), Entry { execution: e, outcome: None });
        true
    }

    /// Records the outcome of a recorded execution. `Ok(false)`, changing
    /// nothing, when an outcome was already recorded for it (the first report
    /// wins, even if a later one disagrees).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] when no execution with that decision id
    /// is recorded (never recorded, or evicted).
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn record_outcome(&mut self, decision_id: &str, success: bool, at: i64) -> Result<bool, Error> {
        let unknown = || {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("no execution is recorded for decision `{decision_id}` (record the execution first)"),
            )
        };
        let exec_at = *self.by_id.get(decision_id).ok_or_else(unknown)?;
        let entry = self.by_time.get_mut(&(exec_at, decision_id.to_string())).ok_or_else(unknown)?;
        if entry.outcome.is_some() {
            return Ok(false);
        }
        entry.outcome = Some(Outcome { success, at });
        let exec = &entry.execution;
        self.outcomes.entry(exec.action.clone()).or_default().insert((at, decision_id.to_string()), success);
        let counts = self.posteriors.entry(exec.signature.clone()).or_default().entry(exec.action.clone()).or_default();
        if success {
            counts.0 = counts.0.saturating_add(1);
        } else {
            counts.1 = counts.1.saturating_add(1);
        }
        Ok(true)
    }

    /// `(successes, failures)` recorded for executions of `action` on
    /// decisions of `signature`. Survives [`Ledger::evict`].
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn posterior(&self, signature: &str, action: &str) -> (u32, u32) {
        self.posteriors.get(signature).and_then(|m| m.get(action)).copied().unwrap_or((0, 0))
    }

    /// Drops executions older than `before` (bounded memory), keeping the
    /// trailing run of failed outcomes of each action that circuit breakers
    /// read (at most [`MAX_TRACKED_FAILURES`] per action), the success that
    /// ends that run, and the success counts. Afterwards executions older than `before` are refused.
    ///
    /// Choose `before` no later than `at` minus the longest window any guard
    /// reads (see [`crate::guard::ActionGuards::horizon`]).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::ledger::{Execution, Ledger};
    /// let mut ledger = Ledger::default();
    /// for (i, ok) in [(1, true), (2, false), (3, true)] {
    ///     ledger.record_execution(Execution {
    ///         decision_id: format!("d-{i}"), signature: "s".into(), action: "restart".into(),
    ///         target: "api".into(), at: i * 1_000, unattended: true,
    ///     });
    ///     ledger.record_outcome(&format!("d-{i}"), ok, i * 1_000 + 10).unwrap();
    /// }
    /// ledger.evict(10_000);
    /// // Only the newest outcome is left, a success: a breaker counts none.
    /// assert_eq!(ledger.len(), 1);
    /// assert_eq!(ledger.consecutive_failures("restart", 5), (0, None));
    /// assert_eq!(ledger.posterior("s", "restart"), (2, 1));
    /// ```
    pub fn evict(&mut self, before: i64) {
        self.evicted_before = Some(self.evicted_before.map_or(before, |b| b.max(before)));
        // The trailing failures of each action, newest first, up to the cap,
        // and the success that ends them: outcomes are ordered by their own
        // time, so that success may belong to an execution older than
        // `before`, and without it older failures would seem to trail.
        let mut keep: Vec<&str> = Vec::new();
        for per_action in self.outcomes.values() {
            // Up to the first success, the index counts the failures passed.
            for (failures, ((_, id), success)) in per_action.iter().rev().enumerate() {
                if !*success && failures == MAX_TRACKED_FAILURES {
                    break;
                }
                keep.push(id.as_str());
                if *success {
                    break;
                }
            }
        }
        keep.sort_unstable();
        let mut dropped: Vec<(i64, String)> = Vec::new();
        for (key, entry) in self.by_time.range(..time_key(before)) {
            if keep.binary_search(&entry.execution.decision_id.as_str()).is_err() {
                dropped.push(key.clone());
            }
        }
        for key in dropped {
            if let Some(entry) = self.by_time.remove(&key) {
                self.by_id.remove(&key.1);
                if let Some(o) = entry.outcome {
                    if let Some(per_action) = self.outcomes.get_mut(&entry.execution.action) {
                        per_action.remove(&(o.at, key.1));
                        if per_action.is_empty() {
                            self.outcomes.remove(&entry.execution.action);
                        }
                    }
                }
            }
        }
    }

    /// The number of executions held.
    ///
    /// # Example
    ///
    /// See [`Ledger::evict`].
    pub fn len(&self) -> usize {
        self.by_time.len()
    }

    /// Whether no execution is held.
    ///
    /// # Example
    ///
    /// See [`Ledger::new`].
    pub fn is_empty(&self) -> bool {
        self.by_time.is_empty()
    }

    /// The time before which history was evicted, if ever.
    ///
    /// # Example
    ///
    /// ```
    /// let mut ledger = healbot_core::ledger::Ledger::new();
    /// ledger.evict(5_000);
    /// assert_eq!(ledger.evicted_before(), Some(5_000));
    /// ```
    pub fn evicted_before(&self) -> Option<i64> {
        self.evicted_before
    }

    /// The entry recorded for a decision id.
    ///
    /// # Example
    ///
    /// See [`Entry`].
    pub fn entry(&self, decision_id: &str) -> Option<&Entry> {
        let at = *self.by_id.get(decision_id)?;
        self.by_time.get(&(at, decision_id.to_string()))
    }

    /// Every entry, ordered by `(execution at, decision id)`.
    ///
    /// # Example
    ///
    /// ```
    /// let ledger = healbot_core::ledger::Ledger::new();
    /// assert_eq!(ledger.entries().count(), 0);
    /// ```
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + '_ {
        self.by_time.values()
    }

    /// Entries executed strictly after `since` (any later time, including
    /// times after the caller's `at`), ordered by `(at, decision id)`.
    /// Windows in the guards are `(at − period, …]`: an execution exactly one
    /// period old no longer counts.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::ledger::{Execution, Ledger};
    /// let mut ledger = Ledger::new();
    /// for at in [1_000, 2_000, 3_000] {
    ///     ledger.record_execution(Execution { decision_id: format!("d-{at}"), signature: "s".into(),
    ///         action: "restart".into(), target: "api".into(), at, unattended: true });
    /// }
    /// assert_eq!(ledger.executed_after(2_000).count(), 1);
    /// assert_eq!(ledger.executed_after(1_999).count(), 2);
    /// ```
    pub fn executed_after(&self, since: i64) -> impl DoubleEndedIterator<Item = &Entry> + '_ {
        let start = match since.checked_add(1) {
            Some(s) => Bound::Included(time_key(s)),
            None => Bound::Excluded((i64::MAX, String::new())),
        };
        // `since == i64::MAX`: nothing is later (an execution stamped i64::MAX is not a real time).
        self.by_time.range((start, Bound::Unbounded)).map(|(_, e)| e)
    }

    /// The latest execution of `action` on `target` (a node id), if any.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::ledger::{Execution, Ledger};
    /// let mut ledger = Ledger::new();
    /// ledger.record_execution(Execution { decision_id: "d".into(), signature: "s".into(),
    ///     action: "restart".into(), target: "api".into(), at: 7, unattended: true });
    /// assert_eq!(ledger.last_execution("restart", "api").map(|e| e.execution.at), Some(7));
    /// assert!(ledger.last_execution("restart", "web").is_none());
    /// ```
    pub fn last_execution(&self, action: &str, target: &str) -> Option<&Entry> {
        self.by_time.values().rev().find(|e| e.execution.action == action && e.execution.target == target)
    }

    /// Entries with no outcome yet executed strictly after `at − timeout`.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::ledger::{Execution, Ledger};
    /// let mut ledger = Ledger::new();
    /// for (id, at) in [("a", 1_000), ("b", 9_000)] {
    ///     ledger.record_execution(Execution { decision_id: id.into(), signature: "s".into(),
    ///         action: "restart".into(), target: "api".into(), at, unattended: true });
    /// }
    /// // At 10 s with a 5 s timeout only `b` still counts as in flight.
    /// assert_eq!(ledger.in_flight(10_000, 5_000).count(), 1);
    /// ```
    pub fn in_flight(&self, at: i64, timeout_ms: i64) -> impl Iterator<Item = &Entry> + '_ {
        self.executed_after(at.saturating_sub(timeout_ms)).filter(|e| e.outcome.is_none())
    }

    /// Unattended executions (of any action) strictly after `since`.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::ledger::{Execution, Ledger};
    /// let mut ledger = Ledger::new();
    /// for (id, unattended) in [("a", true), ("b", false)] {
    ///     ledger.record_execution(Execution { decision_id: id.into(), signature: "s".into(),
    ///         action: "restart".into(), target: "api".into(), at: 5, unattended });
    /// }
    /// assert_eq!(ledger.unattended_after(0), 1);
    /// ```
    pub fn unattended_after(&self, since: i64) -> usize {
        self.executed_after(since).filter(|e| e.execution.unattended).count()
    }

    /// The failed outcomes of `action` since its last success, newest first
    /// (counted up to `limit`), and the time of the newest failure. Outcomes
    /// are ordered by their own time, then decision id.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::ledger::{Execution, Ledger};
    /// let mut ledger = Ledger::new();
    /// for (i, ok) in [(1, false), (2, true), (3, false), (4, false)] {
    ///     let id = format!("d-{i}");
    ///     ledger.record_execution(Execution { decision_id: id.clone(), signature: "s".into(),
    ///         action: "restart".into(), target: "api".into(), at: i, unattended: true });
    ///     ledger.record_outcome(&id, ok, i * 10).unwrap();
    /// }
    /// assert_eq!(ledger.consecutive_failures("restart", 10), (2, Some(40)));
    /// assert_eq!(ledger.consecutive_failures("restart", 1), (1, Some(40)));
    /// assert_eq!(ledger.consecutive_failures("failover", 10), (0, None));
    /// ```
    pub fn consecutive_failures(&self, action: &str, limit: u32) -> (u32, Option<i64>) {
        let Some(per_action) = self.outcomes.get(action) else {
            return (0, None);
        };
        let mut count = 0u32;
        let mut last = None;
        for ((at, _), success) in per_action.iter().rev() {
            if *success || count >= limit {
                break;
            }
            if last.is_none() {
                last = Some(*at);
            }
            count += 1;
        }
        (count, last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(id: &str, action: &str, target: &str, at: i64) -> Execution {
        Execution {
            decision_id: id.into(),
            signature: "sig".into(),
            action: action.into(),
            target: target.into(),
            at,
            unattended: true,
        }
    }

    #[test]
    fn duplicates_change_nothing() {
        let mut l = Ledger::new();
        assert!(l.record_execution(exec("a", "restart", "api", 10)));
        let before = l.clone();
        assert!(!l.record_execution(exec("a", "failover", "db", 99)));
        assert_eq!(l, before);
        assert_eq!(l.record_outcome("a", false, 20), Ok(true));
        let before = l.clone();
        assert_eq!(l.record_outcome("a", true, 30), Ok(false));
        assert_eq!(l, before);
        assert_eq!(l.posterior("sig", "restart"), (0, 1));
        let err = l.record_outcome("zz", true, 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn eviction_keeps_trailing_failures_and_refuses_late_replays() {
        let mut l = Ledger::new();
        for (i, ok) in [(0, true), (1, true), (2, false), (3, false)] {
            let id = format!("d{i}");
            l.record_execution(exec(&id, "restart", "api", i));
            l.record_outcome(&id, ok, i + 100).unwrap();
        }
        l.record_execution(exec("inflight", "restart", "api", 4));
        l.evict(1_000);
        // The two failures, and the success before them that ends their run.
        let ids: Vec<&str> = l.entries().map(|e| e.execution.decision_id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2", "d3"]);
        assert_eq!(l.consecutive_failures("restart", 5), (2, Some(103)));
        assert!(!l.record_execution(exec("d0", "restart", "api", 0)));
        assert!(l.record_outcome("d0", true, 5).is_err());
        assert_eq!(l.posterior("sig", "restart"), (2, 2));
        // Once a success follows, the failures may go.
        l.record_execution(exec("d5", "restart", "api", 2_000));
        l.record_outcome("d5", true, 2_001).unwrap();
        l.evict(1_500);
        let ids: Vec<&str> = l.entries().map(|e| e.execution.decision_id.as_str()).collect();
        assert_eq!(ids, ["d5"]);
        assert_eq!(l.evicted_before(), Some(1_500));
    }

    #[test]
    fn eviction_keeps_the_success_that_ends_the_trailing_failures() {
        // A success executed long ago but known late, and a failure of a
        // younger execution known before it: the success is the newest
        // outcome, so no failure counts. Evicting its old execution must not
        // make the failure trail.
        let mut l = Ledger::new();
        l.record_execution(exec("old", "restart", "api", 50));
        l.record_execution(exec("young", "restart", "api", 80));
        l.record_outcome("young", false, 85).unwrap();
        l.record_outcome("old", true, 90).unwrap();
        assert_eq!(l.consecutive_failures("restart", 5), (0, None));
        l.evict(70);
        assert_eq!(l.consecutive_failures("restart", 5), (0, None));
    }

    #[test]
    fn snapshots_round_trip_through_postcard_and_json() {
        let mut l = Ledger::new();
        l.record_execution(exec("a", "restart", "api", 10));
        l.record_execution(exec("b", "restart", "web", 11));
        l.record_outcome("a", false, 20).unwrap();
        l.evict(5);
        let bytes = postcard::to_allocvec(&l).unwrap();
        let back: Ledger = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, l);
        let json = serde_json::to_string(&l).unwrap();
        let back: Ledger = serde_json::from_str(&json).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.consecutive_failures("restart", 3), (1, Some(20)));
    }

    #[test]
    fn windows_are_half_open() {
        let mut l = Ledger::new();
        l.record_execution(exec("a", "restart", "api", 1_000));
        assert_eq!(l.executed_after(999).count(), 1);
        assert_eq!(l.executed_after(1_000).count(), 0);
        assert_eq!(l.executed_after(i64::MIN).count(), 1);
        assert_eq!(l.executed_after(i64::MAX).count(), 0);
        assert_eq!(l.in_flight(2_000, 1_000).count(), 0);
        assert_eq!(l.in_flight(2_000, 1_001).count(), 1);
    }
}
