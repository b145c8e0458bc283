//! The observations of a parse result by kind, for the parsers' tests.

use super::{Alert, Event, LogRecord, MetricSample, Observation, Parsed};

/// Every observation of `p` as `pick` sees it; panics, naming `what` was
/// expected, at the first one `pick` refuses.
fn all<'p, T>(p: &'p Parsed, what: &str, pick: impl Fn(&'p Observation) -> Option<&'p T>) -> Vec<&'p T> {
    p.observations.iter().map(|o| pick(o).unwrap_or_else(|| panic!("not {what}: {o:?}"))).collect()
}

pub(super) fn metrics(p: &Parsed) -> Vec<&MetricSample> {
    all(p, "a metric", |o| if let Observation::Metric(m) = o { Some(m) } else { None })
}

pub(super) fn logs(p: &Parsed) -> Vec<&LogRecord> {
    all(p, "a log", |o| if let Observation::Log(l) = o { Some(l) } else { None })
}

pub(super) fn alerts(p: &Parsed) -> Vec<&Alert> {
    all(p, "an alert", |o| if let Observation::Alert(a) = o { Some(a) } else { None })
}

pub(super) fn events(p: &Parsed) -> Vec<&Event> {
    all(p, "an event", |o| if let Observation::Event(e) = o { Some(e) } else { None })
}
