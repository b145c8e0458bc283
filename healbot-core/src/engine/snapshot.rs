//! State you can keep: snapshots to bytes and back, and hot reload of the
//! library.
//!
//! A snapshot is a header followed by the state in postcard (a stable,
//! maintained binary format):
//!
//! ```text
//! magic "HBSNAP\0\x01" | format version u16 LE | library revision (16 hex) | topology hash (16 hex)
//!   | body length u64 LE | body checksum u64 LE | body: postcard(State)
//! ```
//!
//! The checksum is [`snapshot_checksum`] of the body. `restore` refuses a
//! snapshot of another library or topology, another format version, a
//! truncated one or one with bytes after its body, and one whose body does
//! not match its checksum or does not decode, with a clear
//! [`ErrorKind::Snapshot`] error. The body's decoder alone would accept
//! many damaged bodies (a flipped byte inside a number is still a number)
//! and ignores trailing bytes, so a damaged snapshot could have restored as
//! different state.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{compile_guards, Engine, EngineConfig, State};
use crate::library::{fnv1a64, Library};
use crate::matcher::Program;
use crate::topology::Topology;
use crate::{Error, ErrorKind};

const MAGIC: &[u8; 8] = b"HBSNAP\0\x01";
/// The snapshot format version this engine writes and reads.
pub const SNAPSHOT_FORMAT_VERSION: u16 = 6;
/// Where the body's length starts: after the magic, the version, the
/// library revision and the topology hash.
const LENGTH_AT: usize = 8 + 2 + 16 + 16;
const HEADER_LEN: usize = LENGTH_AT + 8 + 8;

/// The checksum a snapshot's header holds for its body: FNV-1a (64-bit) of
/// the body's bytes. Every change of a single byte changes it (each step
/// of FNV-1a is a bijection of the state), and other damage goes unnoticed
/// with a chance of about 2^-64. It guards against damage, not tampering.
///
/// # Example
///
/// ```
/// use healbot_core::engine::snapshot_checksum;
///
/// assert_ne!(snapshot_checksum(b"state"), snapshot_checksum(b"statf"));
/// assert_eq!(snapshot_checksum(b""), 0xcbf2_9ce4_8422_2325);
/// ```
pub fn snapshot_checksum(body: &[u8]) -> u64 {
    fnv1a64(body)
}

fn topology_hash(t: &Topology) -> String {
    let text = serde_json::to_string(t.spec()).unwrap_or_default();
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

fn snapshot_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Snapshot, message)
}

impl Engine {
    /// The engine's state (windows, alert sets, counters, pending `for`
    /// timers, ledger, posteriors, stats) as bytes.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::{Engine, Library, Topology};
    /// # let library = Library::from_text("l.yaml", "apiVersion: healbot.dev/v1\nkind: ActionLibrary\nmetadata: {name: a}\nspec: {actions: []}\n").unwrap();
    /// # let topology = Topology::from_text("t.yaml", "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: t}\nspec: {nodes: [{id: api, kind: service}]}\n").unwrap();
    /// let engine = Engine::new(library.clone(), topology.clone(), Default::default()).unwrap();
    /// let bytes = engine.snapshot();
    /// let restored = Engine::restore(library, topology, Default::default(), &bytes).unwrap();
    /// assert_eq!(restored.snapshot(), bytes);
    /// ```
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(self.library.revision().as_bytes());
        out.extend_from_slice(topology_hash(&self.topology).as_bytes());
        // Serialising plain data structures into a Vec cannot fail; an
        // empty body would be refused by `restore` rather than misread.
        let body = postcard::to_allocvec(&self.state).unwrap_or_default();
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&snapshot_checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// An engine with the state of a snapshot.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Snapshot`] when the bytes are not a snapshot, are of
    /// another format version, another library revision or another
    /// topology, or are corrupt; [`ErrorKind::Library`] when the library
    /// cannot be compiled.
    pub fn restore(library: Library, topology: Topology, config: EngineConfig, bytes: &[u8]) -> Result<Engine, Error> {
        if bytes.get(..8) != Some(&MAGIC[..]) {
            return Err(snapshot_error("not a HealBot snapshot (bad magic)"));
        }
        let Some(&[lo, hi]) = bytes.get(8..10) else {
            return Err(snapshot_error("corrupt snapshot: the header is cut short"));
        };
        let version = u16::from_le_bytes([lo, hi]);
        if version != SNAPSHOT_FORMAT_VERSION {
            return Err(snapshot_error(format!(
                "snapshot format version {version}; this engine reads version {SNAPSHOT_FORMAT_VERSION}"
            )));
        }
        if bytes.len() < HEADER_LEN {
            return Err(snapshot_error("corrupt snapshot: the header is cut short"));
        }
        let revision = String::from_utf8_lossy(&bytes[10..26]).to_string();
        if revision != library.revision() {
            return Err(snapshot_error(format!(
                "snapshot of library revision {revision}; this library is revision {}",
                library.revision()
            )));
        }
        let topo = String::from_utf8_lossy(&bytes[26..42]).to_string();
        if topo != topology_hash(&topology) {
            return Err(snapshot_error(format!(
                "snapshot of topology {topo}; this topology is {}",
                topology_hash(&topology)
            )));
        }
        let word = |at: usize| bytes.get(at..at + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
        let (length, checksum) = (word(LENGTH_AT), word(LENGTH_AT + 8));
        let body = bytes.get(HEADER_LEN..).unwrap_or_default();
        if length != body.len() as u64 {
            return Err(snapshot_error(format!(
                "corrupt snapshot: the header gives a body of {length} bytes but {} follow it ({})",
                body.len(),
                if (body.len() as u64) < length { "truncated" } else { "bytes after its end" }
            )));
        }
        if snapshot_checksum(body) != checksum {
            return Err(snapshot_error("corrupt snapshot: the body does not match the header's checksum"));
        }
        let state: State = match postcard::take_from_bytes(body) {
            Ok((state, [])) => state,
            Ok((_, rest)) => {
                return Err(snapshot_error(format!("corrupt snapshot: {} bytes after the state", rest.len())));
            }
            Err(e) => return Err(snapshot_error(format!("corrupt snapshot: {e}"))),
        };
        // Node indexes in the state must exist in this topology.
        let n = topology.len() as u32;
        let bad = state.series_by_node.node_bound() > n as usize
            || !state.series_by_node.is_well_formed()
            || state.logs.node_bound() > n as usize
            || !state.logs.is_well_formed()
            || state.events.node_bound() > n as usize
            || !state.events.is_well_formed()
            || state.alerts.keys().any(|node| *node >= n);
        if bad {
            return Err(snapshot_error("corrupt snapshot: a node index is outside the topology"));
        }
        let mut engine = Engine::new(library, topology, config)?;
        let window = *engine.state.series.config();
        engine.state = state;
        // Limits come from the configuration, not from the snapshot.
        engine.state.series.set_retention(window.retention);
        // When restored alerts end is not known yet: the first evaluation
        // that moves time on looks.
        engine.alerts_end = i64::MIN;
        // Snapshots of earlier versions may list evicted series.
        engine.state.series_by_node.retain_live(&engine.state.series);
        Ok(engine)
    }

    /// Replaces the library: compiles the new one fully first and swaps it
    /// in only if that succeeds, keeping the old one on error. State of
    /// unchanged signatures (pending `for` timers) and of unchanged log
    /// patterns is kept; series, alerts, events and the ledger are kept.
    /// Decisions carry the new library revision from then on.
    ///
    /// # Errors
    ///
    /// The compile error of the new library; the engine keeps running the old one.
    pub fn reload_library(&mut self, library: Library) -> Result<(), Error> {
        let program = Arc::new(Program::compile(&library)?);
        let guards = Arc::new(compile_guards(&library)?);
        // Remap log counters by pattern key.
        let old_keys = &self.program.log_keys;
        let new_slot: BTreeMap<&str, u32> =
            program.log_keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32)).collect();
        for (node, slot, counter) in std::mem::take(&mut self.state.logs).into_entries() {
            if let Some(new) = old_keys.get(slot as usize).and_then(|k| new_slot.get(k.as_str())) {
                self.state.logs.insert(node, *new, counter);
            }
        }
        // Keep `for` timers of signatures whose definition did not change.
        let unchanged = |id: &str| match (self.library.signature(id), library.signature(id)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        self.state.pending.retain(|sig, _| unchanged(sig));
        let retention = program.retention.max(self.config.staleness);
        self.state.series.set_retention(retention);
        self.log_scratch = program.log.scratch();
        self.applicable = program.applicable(&self.topology);
        self.signatures = super::SignatureTables::of(&library);
        self.program = program;
        self.guard_horizon = super::guard_horizon(&guards);
        self.guards = guards;
        self.library = library;
        self.library_instance = crate::instance::next();
        Ok(())
    }
}
