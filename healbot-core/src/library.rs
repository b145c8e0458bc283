//! The compiled library: every signature and action after overrides, with
//! macros inlined, indexed by id and stamped with a revision.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::load::{Format, LoadConfig, Loader};
use crate::spec::action::Action;
use crate::spec::signature::{Signature, SignatureLibrarySpec};
use crate::window::hash::FixedMap;
use crate::{Error, ErrorKind};

/// A validated library of signatures and actions. Immutable, `Send + Sync`
/// and cheap to clone (an `Arc`): many engines share one.
///
/// # Example
///
/// ```
/// use healbot_core::Library;
///
/// let lib = Library::from_text("lib.yaml", r#"
/// apiVersion: healbot.dev/v1
/// kind: ActionLibrary
/// metadata: {name: actions}
/// spec:
///   actions:
///     - {id: restart, title: Restart, operation: restart, risk: low, min_confidence: 0.8}
/// "#).unwrap();
/// assert_eq!(lib.action("restart").unwrap().operation, "restart");
/// assert_eq!(lib.revision().len(), 16);
/// ```
#[derive(Clone, Debug)]
pub struct Library(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    names: Vec<String>,
    lists: BTreeMap<String, Vec<String>>,
    signatures: Vec<Signature>,
    actions: Vec<Action>,
    signature_index: FixedMap<String, usize>,
    action_index: FixedMap<String, usize>,
    revision: Arc<str>,
}

impl Library {
    pub(crate) fn new(names: Vec<String>, spec: SignatureLibrarySpec, actions: Vec<Action>) -> Library {
        let signature_index = spec.signatures.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        let action_index = actions.iter().enumerate().map(|(i, a)| (a.id.clone(), i)).collect();
        let revision = revision_of(&spec.lists, &spec.signatures, &actions);
        Library(Arc::new(Inner {
            names,
            lists: spec.lists,
            signatures: spec.signatures,
            actions,
            signature_index,
            action_index,
            revision: revision.into(),
        }))
    }

    /// Loads a library from sources given as `(name, text)` pairs; the
    /// format of each comes from its name (`.json` or YAML).
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Library`] error with every diagnostic found.
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Library, Error> {
        Library::from_sources_with(sources, LoadConfig::default())
    }

    /// As [`Library::from_sources`], with explicit limits.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Library`] error with every diagnostic found.
    pub fn from_sources_with<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
        config: LoadConfig,
    ) -> Result<Library, Error> {
        let mut loader = Loader::new(config);
        for (name, text) in sources {
            loader.add(name, text);
        }
        loader
            .finish()?
            .library
            .ok_or_else(|| Error::new(ErrorKind::Library, "no signature, action or overrides document was given"))
    }

    /// Loads a library from one text (a YAML stream, or JSON when `name` ends in `.json`).
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Library`] error with every diagnostic found.
    pub fn from_text(name: &str, text: &str) -> Result<Library, Error> {
        Library::from_sources([(name, text)])
    }

    /// Loads a library from one text in an explicit format.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Library`] error with every diagnostic found.
    pub fn from_text_format(name: &str, text: &str, format: Format) -> Result<Library, Error> {
        let mut loader = Loader::new(LoadConfig::default());
        loader.add_with_format(name, text, format);
        loader
            .finish()?
            .library
            .ok_or_else(|| Error::new(ErrorKind::Library, "no signature, action or overrides document was given"))
    }

    /// The names of the documents the library was built from, in load order.
    pub fn document_names(&self) -> &[String] {
        &self.0.names
    }

    /// Every signature, in load order, overrides applied, macros inlined.
    pub fn signatures(&self) -> &[Signature] {
        &self.0.signatures
    }

    /// A signature by id.
    pub fn signature(&self, id: &str) -> Option<&Signature> {
        self.0.signature_index.get(id).map(|&i| &self.0.signatures[i])
    }

    /// The index of a signature by id.
    pub fn signature_index(&self, id: &str) -> Option<usize> {
        self.0.signature_index.get(id).copied()
    }

    /// Every action, in load order.
    pub fn actions(&self) -> &[Action] {
        &self.0.actions
    }

    /// An action by id.
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.0.action_index.get(id).map(|&i| &self.0.actions[i])
    }

    /// The index of an action by id.
    pub fn action_index(&self, id: &str) -> Option<usize> {
        self.0.action_index.get(id).copied()
    }

    /// The named lists.
    pub fn lists(&self) -> &BTreeMap<String, Vec<String>> {
        &self.0.lists
    }

    /// A stable content hash (16 hex digits) of the compiled library,
    /// stamped on every decision and snapshot.
    pub fn revision(&self) -> &str {
        &self.0.revision
    }

    /// The revision, shared (what decisions carry).
    pub(crate) fn revision_shared(&self) -> Arc<str> {
        Arc::clone(&self.0.revision)
    }

    /// Whether two handles share the same compiled value.
    pub fn ptr_eq(&self, other: &Library) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// FNV-1a, 64 bit: small, stable across platforms and releases, and enough
/// to tell library revisions apart (it is not a security boundary).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::new();
    h.write(bytes);
    h.finish()
}

/// FNV-1a, 64-bit, fed piece by piece: hashing parts in turn equals
/// [`fnv1a64`] of their concatenation, without building it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    pub(crate) fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

fn revision_of(lists: &BTreeMap<String, Vec<String>>, signatures: &[Signature], actions: &[Action]) -> String {
    // serde_json output is deterministic for these types (BTreeMaps, Vecs).
    let text = serde_json::to_string(&(lists, signatures, actions)).unwrap_or_default();
    format!("{:016x}", fnv1a64(text.as_bytes()))
}
