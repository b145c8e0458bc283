//! Loading: documents in, validated values out, or every problem found.
//!
//! A [`Loader`] takes any mix of YAML streams and JSON documents, decodes each
//! envelope and each list item separately (so one bad signature does not hide
//! the next), runs the semantic checks across all documents (duplicate ids,
//! unknown references, regexes, windows, overrides), applies overrides, and
//! compiles a [`Library`] and a [`Topology`]. Every diagnostic carries the
//! file, line, column and path inside the document.
//!
//! # Example
//!
//! ```
//! use healbot_core::load::Loader;
//!
//! let mut loader = Loader::default();
//! loader.add("shop.yaml", r#"
//! apiVersion: healbot.dev/v1
//! kind: Topology
//! metadata: {name: shop}
//! spec:
//!   nodes:
//!     - {id: checkout, kind: service, depends_on: [db]}
//!     - {id: db, kind: database}
//! "#);
//! let loaded = loader.finish().unwrap();
//! assert_eq!(loaded.topology.unwrap().len(), 2);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::diagnostic::{did_you_mean, Diagnostic, DiagnosticKind};
use crate::library::Library;
use crate::source::{self, Budget, Node};
use crate::spec::action::{Action, Guard};
use crate::spec::overrides::{ActionOverride, SignatureOverride};
use crate::spec::signature::{Condition, LogPredicate, Signature};
use crate::spec::{
    ActionLibraryDocument, ActionLibrarySpec, ApiVersion, Comparison, Document, DocumentKind, LabelMatcher, MatchOp,
    Metadata, OverridesDocument, OverridesSpec, SignatureLibraryDocument, SignatureLibrarySpec, TopologyDocument,
    TopologySpec,
};
use crate::topology::Topology;
use crate::{Duration, Error, ErrorKind};

/// Limits applied while loading.
///
/// # Example
///
/// ```
/// use healbot_core::load::LoadConfig;
/// use healbot_core::Duration;
///
/// let config = LoadConfig { max_window: Duration::from_secs(6 * 3600), ..LoadConfig::default() };
/// assert!(config.regex_size_limit > 0);
/// ```
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Parser budgets (bytes, depth, nodes including alias expansion).
    pub budget: Budget,
    /// The longest window a predicate may read (default 24h).
    pub max_window: Duration,
    /// Compiled size limit for each regex, in bytes (default 1 MiB).
    pub regex_size_limit: usize,
}

impl Default for LoadConfig {
    fn default() -> LoadConfig {
        LoadConfig { budget: Budget::default(), max_window: Duration::from_secs(24 * 3600), regex_size_limit: 1 << 20 }
    }
}

/// The text format of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A YAML stream of one or more documents.
    Yaml,
    /// One JSON document.
    Json,
}

impl Format {
    /// The format a file name suggests: `.json` is JSON, anything else YAML.
    pub fn from_name(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// What a successful load produced.
#[derive(Debug)]
pub struct Loaded {
    /// The compiled library, when any signature, action or overrides document was given.
    pub library: Option<Library>,
    /// The compiled topology, when a topology document was given.
    pub topology: Option<Topology>,
    /// Warnings (dependency cycles, for instance).
    pub warnings: Vec<Diagnostic>,
    /// The decoded documents, in the order given.
    pub documents: Vec<Document>,
}

/// One decoded document with the tree it came from, for positions.
#[derive(Debug)]
struct Entry {
    file: String,
    root: Node,
    doc: Document,
}

/// Collects sources, then validates and compiles them together.
#[derive(Debug, Default)]
pub struct Loader {
    config: LoadConfig,
    entries: Vec<Entry>,
    diagnostics: Vec<Diagnostic>,
}

impl Loader {
    /// A loader with the given limits.
    pub fn new(config: LoadConfig) -> Loader {
        Loader { config, entries: Vec::new(), diagnostics: Vec::new() }
    }

    /// Adds a source, its format chosen by [`Format::from_name`].
    pub fn add(&mut self, file: &str, text: &str) -> &mut Loader {
        self.add_with_format(file, text, Format::from_name(file))
    }

    /// Adds a source in the given format.
    pub fn add_with_format(&mut self, file: &str, text: &str, format: Format) -> &mut Loader {
        let roots = match format {
            Format::Yaml => {
                let (roots, diags) = source::parse_yaml(file, text, &self.config.budget);
                self.diagnostics.extend(diags);
                roots
            }
            Format::Json => {
                let (root, diags) = source::parse_json(file, text, &self.config.budget);
                self.diagnostics.extend(diags);
                root.into_iter().collect()
            }
        };
        for root in roots {
            if let Some(doc) = self.decode(file, &root) {
                self.entries.push(Entry { file: file.to_string(), root, doc });
            }
        }
        self
    }

    /// Validates everything added and compiles it.
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`ErrorKind::Library`] (or [`ErrorKind::Topology`]
    /// when every problem is in topology documents) carrying every error
    /// diagnostic found, in file order.
    pub fn finish(mut self) -> Result<Loaded, Error> {
        let mut checker = Checker { config: &self.config, diagnostics: Vec::new() };
        checker.check(&self.entries);
        self.diagnostics.extend(checker.diagnostics);

        // Apply overrides and compile only when the documents are sound.
        let mut topology = None;
        let mut library = None;
        if !self.diagnostics.iter().any(Diagnostic::is_error) {
            let topo_entries: Vec<&Entry> =
                self.entries.iter().filter(|e| e.doc.kind() == DocumentKind::Topology).collect();
            if let Some(entry) = topo_entries.first() {
                if let Document::Topology(doc) = &entry.doc {
                    match Topology::compile(&doc.spec) {
                        Ok(t) => {
                            for cycle in t.cycles() {
                                let ids: Vec<&str> = cycle.iter().map(|&n| t.node(n).id()).collect();
                                let d = locate(
                                    &entry.file,
                                    &entry.root,
                                    "spec.nodes",
                                    DiagnosticKind::Lint,
                                    format!(
                                        "dependency cycle: {} → {}",
                                        ids.join(" → "),
                                        ids.first().copied().unwrap_or("")
                                    ),
                                );
                                self.diagnostics.push(d.warning());
                            }
                            topology = Some(t);
                        }
                        Err(problems) => {
                            for p in problems {
                                let path = p.path();
                                let mut d = locate(&entry.file, &entry.root, &path, p.kind(), p.message().to_string());
                                if let Some(s) = p.suggestion() {
                                    d = d.with_suggestion(s.to_string());
                                }
                                self.diagnostics.push(d);
                            }
                        }
                    }
                }
            }
            let has_library = self.entries.iter().any(|e| e.doc.kind() != DocumentKind::Topology);
            if has_library {
                library = Some(self.build_library());
            }
        }

        let (errors, warnings): (Vec<_>, Vec<_>) = self.diagnostics.into_iter().partition(Diagnostic::is_error);
        if !errors.is_empty() {
            let all_topology =
                errors.iter().all(|d| d.path.starts_with("spec.nodes") || d.path.starts_with("spec.attach_by"))
                    && self.entries.iter().all(|e| e.doc.kind() == DocumentKind::Topology);
            let kind = if all_topology { ErrorKind::Topology } else { ErrorKind::Library };
            let n = errors.len();
            return Err(Error::with_diagnostics(
                kind,
                format!("{n} error{} in documents", if n == 1 { "" } else { "s" }),
                errors,
            ));
        }
        Ok(Loaded { library, topology, warnings, documents: self.entries.into_iter().map(|e| e.doc).collect() })
    }

    fn build_library(&self) -> Library {
        let mut spec = SignatureLibrarySpec::default();
        let mut actions = ActionLibrarySpec::default();
        let mut names = Vec::new();
        let mut overrides = Vec::new();
        for e in &self.entries {
            match &e.doc {
                Document::SignatureLibrary(d) => {
                    names.push(d.metadata.name.clone());
                    spec.lists.extend(d.spec.lists.clone());
                    spec.macros.extend(d.spec.macros.clone());
                    spec.signatures.extend(d.spec.signatures.iter().cloned());
                }
                Document::ActionLibrary(d) => {
                    names.push(d.metadata.name.clone());
                    actions.actions.extend(d.spec.actions.iter().cloned());
                }
                Document::Overrides(d) => {
                    names.push(d.metadata.name.clone());
                    overrides.push(d.spec.clone());
                }
                Document::Topology(_) => {}
            }
        }
        for o in &overrides {
            for so in &o.signatures {
                if let Some(sig) = spec.signatures.iter_mut().find(|s| s.id == so.id) {
                    apply_signature_override(sig, so);
                }
            }
            for ao in &o.actions {
                if let Some(a) = actions.actions.iter_mut().find(|a| a.id == ao.id) {
                    apply_action_override(a, ao);
                }
            }
        }
        // Macros are inlined so the compiled library has one tree per signature.
        for sig in &mut spec.signatures {
            expand_macros(&mut sig.match_, &spec.macros, 0);
            for ev in &mut sig.evidence {
                expand_macros(&mut ev.when, &spec.macros, 0);
            }
        }
        Library::new(names, spec, actions.actions)
    }

    fn decode(&mut self, file: &str, root: &Node) -> Option<Document> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Head {
            #[serde(rename = "apiVersion")]
            api_version: ApiVersion,
            kind: DocumentKind,
            metadata: Metadata,
            spec: IgnoredAny,
        }
        let head: Head = match source::from_node(file, root, "") {
            Ok(h) => h,
            Err(mut d) => {
                if d.path == "apiVersion"
                    || d.path == "kind"
                    || (d.kind == DiagnosticKind::MissingField && d.path.is_empty())
                {
                    d.kind = DiagnosticKind::Envelope;
                }
                self.diagnostics.push(d);
                return None;
            }
        };
        let spec = root.get("spec")?;
        let metadata = head.metadata;
        let api_version = head.api_version;
        let doc = match head.kind {
            DocumentKind::SignatureLibrary => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(dead_code)]
                struct Shape {
                    lists: Option<BTreeMap<String, Vec<String>>>,
                    macros: Option<BTreeMap<String, IgnoredAny>>,
                    signatures: Option<Vec<IgnoredAny>>,
                }
                let shape: Option<Shape> = self.decode_at(file, spec, "spec");
                let mut s = SignatureLibrarySpec::default();
                if let Some(shape) = shape {
                    s.lists = shape.lists.unwrap_or_default();
                    if let Some(m) = spec.get("macros") {
                        s.macros = self.decode_map(file, m, "spec.macros");
                    }
                    if let Some(list) = spec.get("signatures") {
                        s.signatures = self.decode_list(file, list, "spec.signatures");
                    }
                }
                Document::SignatureLibrary(SignatureLibraryDocument {
                    api_version,
                    kind: Default::default(),
                    metadata,
                    spec: s,
                })
            }
            DocumentKind::ActionLibrary => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(dead_code)]
                struct Shape {
                    actions: Option<Vec<IgnoredAny>>,
                }
                let mut s = ActionLibrarySpec::default();
                if self.decode_at::<Shape>(file, spec, "spec").is_some() {
                    if let Some(list) = spec.get("actions") {
                        s.actions = self.decode_list(file, list, "spec.actions");
                    }
                }
                Document::ActionLibrary(ActionLibraryDocument {
                    api_version,
                    kind: Default::default(),
                    metadata,
                    spec: s,
                })
            }
            DocumentKind::Topology => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(dead_code)]
                struct Shape {
                    attach_by: Option<Vec<String>>,
                    replicas_metric: Option<String>,
                    nodes: Vec<IgnoredAny>,
                }
                let mut s = TopologySpec::default();
                if let Some(shape) = self.decode_at::<Shape>(file, spec, "spec") {
                    s.attach_by = shape.attach_by.unwrap_or_else(crate::spec::topology::default_attach_by);
                    s.replicas_metric = shape.replicas_metric;
                    if let Some(list) = spec.get("nodes") {
                        s.nodes = self.decode_list(file, list, "spec.nodes");
                    }
                }
                Document::Topology(TopologyDocument { api_version, kind: Default::default(), metadata, spec: s })
            }
            DocumentKind::Overrides => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(dead_code)]
                struct Shape {
                    signatures: Option<Vec<IgnoredAny>>,
                    actions: Option<Vec<IgnoredAny>>,
                }
                let mut s = OverridesSpec::default();
                if self.decode_at::<Shape>(file, spec, "spec").is_some() {
                    if let Some(list) = spec.get("signatures") {
                        s.signatures = self.decode_list(file, list, "spec.signatures");
                    }
                    if let Some(list) = spec.get("actions") {
                        s.actions = self.decode_list(file, list, "spec.actions");
                    }
                }
                Document::Overrides(OverridesDocument { api_version, kind: Default::default(), metadata, spec: s })
            }
        };
        // Items that failed to decode are left out; the rest is still checked,
        // so one bad signature does not hide problems in the next.

        Some(doc)
    }

    fn decode_at<T: serde::de::DeserializeOwned>(&mut self, file: &str, node: &Node, path: &str) -> Option<T> {
        match source::from_node(file, node, path) {
            Ok(v) => Some(v),
            Err(d) => {
                self.diagnostics.push(d);
                None
            }
        }
    }

    fn decode_list<T: serde::de::DeserializeOwned>(&mut self, file: &str, node: &Node, path: &str) -> Vec<T> {
        let source::Value::Seq(items) = &node.value else {
            return Vec::new();
        };
        items.iter().enumerate().filter_map(|(i, item)| self.decode_at(file, item, &format!("{path}[{i}]"))).collect()
    }

    fn decode_map<T: serde::de::DeserializeOwned>(
        &mut self,
        file: &str,
        node: &Node,
        path: &str,
    ) -> BTreeMap<String, T> {
        let source::Value::Map(entries) = &node.value else {
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, v) in entries {
            let Some(key) = k.as_str() else { continue };
            if let Some(value) = self.decode_at(file, v, &format!("{path}.{key}")) {
                out.insert(key.to_string(), value);
            }
        }
        out
    }
}

fn apply_signature_override(sig: &mut Signature, o: &SignatureOverride) {
    if let Some(s) = o.status {
        sig.status = s;
    }
    if let Some(s) = o.severity {
        sig.severity = s;
    }
    if let Some(p) = o.prior {
        sig.prior = Some(p);
    }
    if let Some(f) = o.for_ {
        sig.for_ = f;
    }
    for (id, value) in &o.thresholds {
        set_threshold(&mut sig.match_, id, *value);
        for ev in &mut sig.evidence {
            set_threshold(&mut ev.when, id, *value);
        }
    }
    for (id, w) in &o.weights {
        for ev in sig.evidence.iter_mut().filter(|e| e.id.as_deref() == Some(id)) {
            ev.weight = *w;
        }
    }
    if let Some(change) = &o.actions {
        if let Some(r) = &change.replace {
            sig.actions = r.clone();
        }
        sig.actions.extend(change.append.iter().cloned());
    }
}

fn apply_action_override(a: &mut Action, o: &ActionOverride) {
    if let Some(m) = o.min_confidence {
        a.min_confidence = m;
    }
}

fn set_threshold(c: &mut Condition, id: &str, value: f64) {
    walk_mut(c, &mut |c| match c {
        Condition::Metric(p) if p.id.as_deref() == Some(id) => p.threshold = value,
        Condition::Log(p) if p.id.as_deref() == Some(id) => p.threshold = value,
        Condition::Event(p) if p.id.as_deref() == Some(id) => p.threshold = value,
        Condition::Forecast(p) if p.id.as_deref() == Some(id) => p.threshold = value,
        _ => {}
    });
}

fn walk_mut(c: &mut Condition, f: &mut impl FnMut(&mut Condition)) {
    f(c);
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter_mut().for_each(|c| walk_mut(c, f)),
        Condition::AtLeast(a) => a.of.iter_mut().for_each(|c| walk_mut(c, f)),
        Condition::Not(c) => walk_mut(c, f),
        _ => {}
    }
}

/// The deepest macro nesting expanded; deeper references are cycles, which the
/// checker has already rejected.
const MAX_MACRO_DEPTH: usize = 32;

fn expand_macros(c: &mut Condition, macros: &BTreeMap<String, Condition>, depth: usize) {
    if depth > MAX_MACRO_DEPTH {
        return;
    }
    if let Condition::Macro(name) = c {
        if let Some(body) = macros.get(name.as_str()) {
            *c = body.clone();
            expand_macros(c, macros, depth + 1);
        }
        return;
    }
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter_mut().for_each(|c| expand_macros(c, macros, depth)),
        Condition::AtLeast(a) => a.of.iter_mut().for_each(|c| expand_macros(c, macros, depth)),
        Condition::Not(c) => expand_macros(c, macros, depth),
        _ => {}
    }
}

/// A diagnostic positioned at `path` inside `root` (or at the nearest
/// ancestor that exists).
fn locate(file: &str, root: &Node, path: &str, kind: DiagnosticKind, message: String) -> Diagnostic {
    let mut p = path;
    let span = loop {
        if let Some(n) = root.at_path(p) {
            break n.span;
        }
        match p.rfind(['.', '[']) {
            Some(i) => p = &p[..i],
            None => break root.span,
        }
    };
    Diagnostic::error(kind, file, span.line, span.column, path, message)
}

/// Semantic checks across every decoded document.
struct Checker<'a> {
    config: &'a LoadConfig,
    diagnostics: Vec<Diagnostic>,
}

/// Where a signature-library item was defined, for cross-document checks.
struct SigCx<'e> {
    entry: &'e Entry,
    lists: &'e BTreeSet<String>,
    macros: &'e BTreeSet<String>,
}

impl Checker<'_> {
    fn emit(&mut self, entry: &Entry, path: &str, kind: DiagnosticKind, message: String) -> &mut Diagnostic {
        self.diagnostics.push(locate(&entry.file, &entry.root, path, kind, message));
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }

    fn check(&mut self, entries: &[Entry]) {
        let mut lists = BTreeSet::new();
        let mut macros = BTreeSet::new();
        let mut sig_ids: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut action_ids: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut topologies = 0;

        for (ei, e) in entries.iter().enumerate() {
            self.check_engine_version(e);
            match &e.doc {
                Document::SignatureLibrary(d) => {
                    lists.extend(d.spec.lists.keys().cloned());
                    macros.extend(d.spec.macros.keys().cloned());
                    for (i, s) in d.spec.signatures.iter().enumerate() {
                        let path = format!("spec.signatures[{i}].id");
                        self.check_unique(&mut sig_ids, entries, ei, &s.id, &path, "signature");
                    }
                }
                Document::ActionLibrary(d) => {
                    for (i, a) in d.spec.actions.iter().enumerate() {
                        let path = format!("spec.actions[{i}].id");
                        self.check_unique(&mut action_ids, entries, ei, &a.id, &path, "action");
                        self.check_action(e, a, &format!("spec.actions[{i}]"));
                    }
                }
                Document::Topology(_) => {
                    topologies += 1;
                    if topologies > 1 {
                        let msg =
                            "a second Topology document; give one topology per load (merge the node lists)".to_string();
                        self.emit(e, "kind", DiagnosticKind::Duplicate, msg);
                    }
                }
                Document::Overrides(_) => {}
            }
        }

        // Signatures: condition trees, references to lists, macros and actions.
        for e in entries {
            let Document::SignatureLibrary(d) = &e.doc else { continue };
            let cx = SigCx { entry: e, lists: &lists, macros: &macros };
            for (name, body) in &d.spec.macros {
                self.check_condition(&cx, body, &format!("spec.macros.{name}"), &mut BTreeSet::new());
                self.check_macro_cycle(e, &d.spec.macros, name);
            }
            for (i, s) in d.spec.signatures.iter().enumerate() {
                self.check_signature(&cx, s, &format!("spec.signatures[{i}]"), &action_ids);
            }
        }

        // Overrides refer to ids that exist (predicate ids inside macros count).
        let all_macros: BTreeMap<String, Condition> = entries
            .iter()
            .filter_map(|e| match &e.doc {
                Document::SignatureLibrary(d) => Some(d.spec.macros.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let sigs: BTreeMap<&str, &Signature> = entries
            .iter()
            .filter_map(|e| match &e.doc {
                Document::SignatureLibrary(d) => Some(d.spec.signatures.iter()),
                _ => None,
            })
            .flatten()
            .map(|s| (s.id.as_str(), s))
            .collect();
        for e in entries {
            let Document::Overrides(d) = &e.doc else { continue };
            for (i, o) in d.spec.signatures.iter().enumerate() {
                let path = format!("spec.signatures[{i}]");
                let Some(sig) = sigs.get(o.id.as_str()) else {
                    let sugg = did_you_mean(&o.id, sigs.keys().copied());
                    let d = self.emit(
                        e,
                        &format!("{path}.id"),
                        DiagnosticKind::UnknownReference,
                        format!("override of unknown signature `{}`", o.id),
                    );
                    if let Some(s) = sugg {
                        d.suggestion = Some(format!("did you mean `{s}`?"));
                    }
                    continue;
                };
                let mut pred_ids = BTreeSet::new();
                collect_ids(&sig.match_, &all_macros, &mut pred_ids, 0);
                for ev in &sig.evidence {
                    collect_ids(&ev.when, &all_macros, &mut pred_ids, 0);
                }
                for (id, v) in &o.thresholds {
                    if !pred_ids.contains(id.as_str()) {
                        let known: Vec<&str> = pred_ids.iter().copied().collect();
                        self.emit(
                            e,
                            &format!("{path}.thresholds.{id}"),
                            DiagnosticKind::UnknownReference,
                            format!("signature `{}` has no predicate with id `{id}`", o.id),
                        )
                        .expected = Some(if known.is_empty() {
                            "a predicate id (this signature's predicates have none)".into()
                        } else {
                            format!("one of {}", known.join(", "))
                        });
                    }
                    if !v.is_finite() {
                        self.emit(
                            e,
                            &format!("{path}.thresholds.{id}"),
                            DiagnosticKind::InvalidValue,
                            "a threshold must be a finite number".into(),
                        );
                    }
                }
                for id in o.weights.keys() {
                    if !sig.evidence.iter().any(|ev| ev.id.as_deref() == Some(id.as_str())) {
                        self.emit(
                            e,
                            &format!("{path}.weights.{id}"),
                            DiagnosticKind::UnknownReference,
                            format!("signature `{}` has no evidence with id `{id}`", o.id),
                        );
                    }
                }
                if let Some(p) = o.prior {
                    self.check_prior(e, p, &format!("{path}.prior"));
                }
                if let Some(change) = &o.actions {
                    let listed = change
                        .replace
                        .iter()
                        .flatten()
                        .enumerate()
                        .map(|(j, a)| (format!("{path}.actions.replace[{j}]"), a));
                    let appended =
                        change.append.iter().enumerate().map(|(j, a)| (format!("{path}.actions.append[{j}]"), a));
                    for (p, a) in listed.chain(appended).collect::<Vec<_>>() {
                        self.check_action_ref(e, &action_ids, a, &p);
                    }
                }
            }
            for (i, o) in d.spec.actions.iter().enumerate() {
                let path = format!("spec.actions[{i}]");
                if !action_ids.contains_key(&o.id) {
                    let sugg = did_you_mean(&o.id, action_ids.keys().map(String::as_str));
                    let d = self.emit(
                        e,
                        &format!("{path}.id"),
                        DiagnosticKind::UnknownReference,
                        format!("override of unknown action `{}`", o.id),
                    );
                    d.suggestion = sugg.map(|s| format!("did you mean `{s}`?"));
                }
                if let Some(m) = o.min_confidence {
                    self.check_unit_interval(e, m, &format!("{path}.min_confidence"), "min_confidence");
                }
            }
        }
    }

    fn check_engine_version(&mut self, e: &Entry) {
        let Some(v) = &e.doc.metadata().min_engine_version else { return };
        let path = "metadata.min_engine_version";
        match (parse_version(v), parse_version(crate::ENGINE_VERSION)) {
            (None, _) => {
                self.emit(e, path, DiagnosticKind::InvalidValue, format!("`{v}` is not a version")).expected =
                    Some("MAJOR.MINOR.PATCH, such as 0.1.0".into());
            }
            (Some(needed), Some(have)) if needed > have => {
                let msg = format!("this document needs engine {v} or newer; this is engine {}", crate::ENGINE_VERSION);
                self.emit(e, path, DiagnosticKind::EngineVersion, msg);
            }
            _ => {}
        }
    }

    fn check_unique(
        &mut self,
        seen: &mut BTreeMap<String, (usize, String)>,
        entries: &[Entry],
        ei: usize,
        id: &str,
        path: &str,
        what: &str,
    ) {
        let e = &entries[ei];
        if let Some((first, first_path)) = seen.get(id) {
            let fe = &entries[*first];
            let at = fe.root.at_path(first_path).map(|n| n.span).unwrap_or(fe.root.span);
            let msg = format!("duplicate {what} id `{id}`; first defined at {}:{}:{}", fe.file, at.line, at.column);
            self.emit(e, path, DiagnosticKind::Duplicate, msg);
        } else {
            seen.insert(id.to_string(), (ei, path.to_string()));
        }
    }

    fn check_action_ref(&mut self, e: &Entry, actions: &BTreeMap<String, (usize, String)>, id: &str, path: &str) {
        if !actions.contains_key(id) {
            let sugg = did_you_mean(id, actions.keys().map(String::as_str));
            let d = self.emit(e, path, DiagnosticKind::UnknownReference, format!("unknown action `{id}`"));
            d.suggestion = sugg.map(|s| format!("did you mean `{s}`?"));
        }
    }

    fn check_prior(&mut self, e: &Entry, p: f64, path: &str) {
        if !(p > 0.0 && p < 1.0) {
            self.emit(
                e,
                path,
                DiagnosticKind::InvalidValue,
                format!("prior {p} is not a probability strictly between 0 and 1"),
            );
        }
    }

    fn check_unit_interval(&mut self, e: &Entry, v: f64, path: &str, what: &str) {
        if !(0.0..=1.0).contains(&v) {
            self.emit(e, path, DiagnosticKind::InvalidValue, format!("{what} {v} is outside [0, 1]"));
        }
    }

    fn check_signature(
        &mut self,
        cx: &SigCx<'_>,
        s: &Signature,
        path: &str,
        actions: &BTreeMap<String, (usize, String)>,
    ) {
        let e = cx.entry;
        if let Some(p) = s.prior {
            self.check_prior(e, p, &format!("{path}.prior"));
        }
        let mut ids = BTreeSet::new();
        self.check_condition(cx, &s.match_, &format!("{path}.match"), &mut ids);
        let mut ev_ids = BTreeSet::new();
        for (i, ev) in s.evidence.iter().enumerate() {
            let p = format!("{path}.evidence[{i}]");
            self.check_condition(cx, &ev.when, &format!("{p}.when"), &mut ids);
            if !ev.weight.is_finite() {
                self.emit(
                    e,
                    &format!("{p}.weight"),
                    DiagnosticKind::InvalidValue,
                    "a weight must be a finite number".into(),
                );
            }
            if let Some(id) = &ev.id {
                if !ev_ids.insert(id.clone()) {
                    self.emit(
                        e,
                        &format!("{p}.id"),
                        DiagnosticKind::Duplicate,
                        format!("duplicate evidence id `{id}` in this signature"),
                    );
                }
            }
        }
        if s.for_ > self.config.max_window {
            let msg = format!("`for` of {} is longer than the maximum window {}", s.for_, self.config.max_window);
            self.emit(e, &format!("{path}.for"), DiagnosticKind::WindowTooLong, msg);
        }
        for (i, m) in s.applies_to.labels.iter().enumerate() {
            self.check_label_matcher(e, m, &format!("{path}.applies_to.labels[{i}]"));
        }
        for (i, x) in s.exceptions.iter().enumerate() {
            let p = format!("{path}.exceptions[{i}]");
            if !valid_node_field(&x.field) {
                self.emit(
                    e,
                    &format!("{p}.field"),
                    DiagnosticKind::InvalidValue,
                    format!("unknown exception field `{}`", x.field),
                )
                .expected = Some("`node.id`, `node.kind`, `node.tier` or `node.label.<key>`".into());
            }
            match &x.list {
                Some(l) if !cx.lists.contains(l) => {
                    let sugg = did_you_mean(l, cx.lists.iter().map(String::as_str));
                    let d = self.emit(
                        e,
                        &format!("{p}.list"),
                        DiagnosticKind::UnknownReference,
                        format!("unknown list `{l}`"),
                    );
                    d.suggestion = sugg.map(|s| format!("did you mean `{s}`?"));
                }
                None if x.values.is_empty() => {
                    self.emit(e, &p, DiagnosticKind::Invalid, "an exception needs `values` or a `list`".into());
                }
                _ => {}
            }
        }
        for (i, a) in s.actions.iter().enumerate() {
            self.check_action_ref(e, actions, a, &format!("{path}.actions[{i}]"));
        }
    }

    fn check_window(&mut self, e: &Entry, w: Duration, path: &str) {
        if w.is_zero() {
            self.emit(e, path, DiagnosticKind::Invalid, "a window must be longer than 0s".into());
        } else if w > self.config.max_window {
            let msg = format!("window {w} is longer than the maximum {}", self.config.max_window);
            self.emit(e, path, DiagnosticKind::WindowTooLong, msg).expected =
                Some(format!("at most {}", self.config.max_window));
        }
    }

    fn check_threshold(&mut self, e: &Entry, v: f64, path: &str) {
        if v.is_nan() {
            self.emit(e, path, DiagnosticKind::InvalidValue, "a threshold must be a number, not NaN".into());
        }
    }

    fn check_pred_id(&mut self, e: &Entry, id: &Option<String>, path: &str, ids: &mut BTreeSet<String>) {
        if let Some(id) = id {
            if !ids.insert(id.clone()) {
                self.emit(
                    e,
                    &format!("{path}.id"),
                    DiagnosticKind::Duplicate,
                    format!("duplicate predicate id `{id}` in this signature"),
                );
            }
        }
    }

    fn check_condition(&mut self, cx: &SigCx<'_>, c: &Condition, path: &str, ids: &mut BTreeSet<String>) {
        let e = cx.entry;
        match c {
            Condition::All(v) | Condition::Any(v) => {
                let word = if matches!(c, Condition::All(_)) { "all" } else { "any" };
                let p = format!("{path}.{word}");
                if v.is_empty() {
                    self.emit(e, &p, DiagnosticKind::Invalid, format!("`{word}` has no conditions"));
                }
                for (i, c) in v.iter().enumerate() {
                    self.check_condition(cx, c, &format!("{p}[{i}]"), ids);
                }
            }
            Condition::Not(inner) => self.check_condition(cx, inner, &format!("{path}.not"), ids),
            Condition::AtLeast(a) => {
                let p = format!("{path}.at_least");
                if a.of.is_empty() {
                    self.emit(e, &format!("{p}.of"), DiagnosticKind::Invalid, "`at_least` has no conditions".into());
                } else if a.n == 0 || a.n as usize > a.of.len() {
                    let msg = format!("`at_least` needs {} of {} conditions", a.n, a.of.len());
                    self.emit(e, &format!("{p}.n"), DiagnosticKind::Invalid, msg).expected =
                        Some(format!("n between 1 and {}", a.of.len()));
                }
                for (i, c) in a.of.iter().enumerate() {
                    self.check_condition(cx, c, &format!("{p}.of[{i}]"), ids);
                }
            }
            Condition::Metric(m) => {
                let p = format!("{path}.metric");
                self.check_pred_id(e, &m.id, &p, ids);
                self.check_window(e, m.window, &format!("{p}.window"));
                self.check_threshold(e, m.threshold, &format!("{p}.threshold"));
                for (i, lm) in m.labels.iter().enumerate() {
                    self.check_label_matcher(e, lm, &format!("{p}.labels[{i}]"));
                }
                match (m.agg, m.q) {
                    (crate::spec::Aggregation::Quantile, None) => {
                        self.emit(e, &p, DiagnosticKind::MissingField, "`agg: quantile` needs `q`".into());
                    }
                    (crate::spec::Aggregation::Quantile, Some(q)) if !(0.0..=1.0).contains(&q) => {
                        self.emit(
                            e,
                            &format!("{p}.q"),
                            DiagnosticKind::InvalidValue,
                            format!("quantile {q} is outside [0, 1]"),
                        );
                    }
                    (agg, Some(_)) if agg != crate::spec::Aggregation::Quantile => {
                        self.emit(
                            e,
                            &format!("{p}.q"),
                            DiagnosticKind::Invalid,
                            "`q` is only meaningful with `agg: quantile`".into(),
                        );
                    }
                    _ => {}
                }
            }
            Condition::Log(l) => {
                let p = format!("{path}.log");
                self.check_pred_id(e, &l.id, &p, ids);
                self.check_window(e, l.window, &format!("{p}.window"));
                self.check_threshold(e, l.threshold, &format!("{p}.threshold"));
                self.check_log_pattern(cx, l, &p);
            }
            Condition::Event(ev) => {
                let p = format!("{path}.event");
                self.check_pred_id(e, &ev.id, &p, ids);
                self.check_window(e, ev.window, &format!("{p}.window"));
                self.check_threshold(e, ev.threshold, &format!("{p}.threshold"));
            }
            Condition::Alert(a) => {
                let p = format!("{path}.alert");
                self.check_pred_id(e, &a.id, &p, ids);
                for (i, lm) in a.labels.iter().enumerate() {
                    self.check_label_matcher(e, lm, &format!("{p}.labels[{i}]"));
                }
            }
            Condition::Absent(a) => {
                let p = format!("{path}.absent");
                self.check_pred_id(e, &a.id, &p, ids);
                self.check_window(e, a.for_, &format!("{p}.for"));
                for (i, lm) in a.labels.iter().enumerate() {
                    self.check_label_matcher(e, lm, &format!("{p}.labels[{i}]"));
                }
            }
            Condition::Dependency(d) => self.check_pred_id(e, &d.id, &format!("{path}.dependency"), ids),
            Condition::Replicas(r) => self.check_pred_id(e, &r.id, &format!("{path}.replicas"), ids),
            Condition::Forecast(f) => {
                let p = format!("{path}.forecast");
                self.check_pred_id(e, &f.id, &p, ids);
                self.check_window(e, f.window, &format!("{p}.window"));
                self.check_threshold(e, f.threshold, &format!("{p}.threshold"));
                if f.within.is_zero() {
                    self.emit(
                        e,
                        &format!("{p}.within"),
                        DiagnosticKind::Invalid,
                        "a forecast horizon must be longer than 0s".into(),
                    );
                }
                if matches!(f.op, Comparison::Eq | Comparison::Ne) {
                    self.emit(
                        e,
                        &format!("{p}.op"),
                        DiagnosticKind::InvalidValue,
                        format!("a forecast cannot use `{}`", f.op),
                    )
                    .expected = Some("`>`, `>=`, `<` or `<=`".into());
                }
                for (i, lm) in f.labels.iter().enumerate() {
                    self.check_label_matcher(e, lm, &format!("{p}.labels[{i}]"));
                }
            }
            Condition::Macro(name) => {
                if !cx.macros.contains(name) {
                    let sugg = did_you_mean(name, cx.macros.iter().map(String::as_str));
                    let d = self.emit(
                        e,
                        &format!("{path}.macro"),
                        DiagnosticKind::UnknownReference,
                        format!("unknown macro `{name}`"),
                    );
                    d.suggestion = sugg.map(|s| format!("did you mean `{s}`?"));
                }
            }
        }
    }

    fn check_macro_cycle(&mut self, e: &Entry, macros: &BTreeMap<String, Condition>, start: &str) {
        // Depth-first over macro references; a path that returns to `start` is a cycle.
        let mut stack = vec![(start.to_string(), vec![start.to_string()])];
        let mut seen = BTreeSet::new();
        while let Some((name, trail)) = stack.pop() {
            let Some(body) = macros.get(&name) else { continue };
            let mut refs = Vec::new();
            collect_macro_refs(body, &mut refs);
            for r in refs {
                if r == start {
                    let msg = format!("macro cycle: {} → {start}", trail.join(" → "));
                    self.emit(e, &format!("spec.macros.{start}"), DiagnosticKind::Invalid, msg);
                    return;
                }
                if seen.insert(r.clone()) {
                    let mut t = trail.clone();
                    t.push(r.clone());
                    stack.push((r, t));
                }
            }
        }
    }

    fn check_log_pattern(&mut self, cx: &SigCx<'_>, l: &LogPredicate, p: &str) {
        let e = cx.entry;
        let kinds = [
            l.regex.is_some(),
            !l.contains.is_empty(),
            !l.contains_any.is_empty(),
            l.startswith.is_some(),
            l.endswith.is_some(),
            l.in_list.is_some(),
        ];
        let n = kinds.iter().filter(|k| **k).count();
        if n != 1 {
            let msg =
                if n == 0 { "a log predicate needs a pattern" } else { "a log predicate takes exactly one pattern" };
            self.emit(e, p, DiagnosticKind::Invalid, msg.into()).expected =
                Some("exactly one of `regex`, `contains`, `contains_any`, `startswith`, `endswith`, `in_list`".into());
        }
        if let Some(re) = &l.regex {
            self.check_regex(e, re, l.case_insensitive, &format!("{p}.regex"));
        }
        if let Some(list) = &l.in_list {
            if !cx.lists.contains(list) {
                let sugg = did_you_mean(list, cx.lists.iter().map(String::as_str));
                let d = self.emit(
                    e,
                    &format!("{p}.in_list"),
                    DiagnosticKind::UnknownReference,
                    format!("unknown list `{list}`"),
                );
                d.suggestion = sugg.map(|s| format!("did you mean `{s}`?"));
            }
        }
    }

    fn check_regex(&mut self, e: &Entry, pattern: &str, case_insensitive: bool, path: &str) {
        if let Err(err) = regex_syntax::ParserBuilder::new().case_insensitive(case_insensitive).build().parse(pattern) {
            let (offset, what) = match &err {
                regex_syntax::Error::Parse(x) => (x.span().start.offset, x.kind().to_string()),
                regex_syntax::Error::Translate(x) => (x.span().start.offset, x.kind().to_string()),
                other => (0, other.to_string()),
            };
            let msg = format!("invalid regex at offset {offset} in the pattern: {what}");
            self.emit(e, path, DiagnosticKind::InvalidRegex, msg).found = Some(format!("`{pattern}`"));
            return;
        }
        if let Err(err) = regex::RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(self.config.regex_size_limit)
            .build()
        {
            let msg = match err {
                regex::Error::CompiledTooBig(limit) => format!("regex compiles to more than {limit} bytes"),
                other => other.to_string(),
            };
            self.emit(e, path, DiagnosticKind::InvalidRegex, msg);
        }
    }

    fn check_label_matcher(&mut self, e: &Entry, m: &LabelMatcher, path: &str) {
        if matches!(m.op, MatchOp::Re | MatchOp::NotRe) {
            self.check_regex(e, &format!("^(?:{})$", m.value), false, path);
        }
    }

    fn check_action(&mut self, e: &Entry, a: &Action, path: &str) {
        self.check_unit_interval(e, a.min_confidence, &format!("{path}.min_confidence"), "min_confidence");
        if a.operation.trim().is_empty() {
            self.emit(e, &format!("{path}.operation"), DiagnosticKind::Invalid, "`operation` is empty".into());
        }
        if let crate::spec::Target::Dependency(sel) = &a.target {
            for (i, m) in sel.labels.iter().enumerate() {
                self.check_label_matcher(e, m, &format!("{path}.target.dependency.labels[{i}]"));
            }
        }
        for (i, g) in a.guards.iter().enumerate() {
            let p = format!("{path}.guards[{i}]");
            match g {
                Guard::Throttle(t) => {
                    self.check_group_key(e, &t.key, &format!("{p}.throttle.key"));
                    self.check_positive(e, t.max, &format!("{p}.throttle.max"));
                    self.check_window(e, t.per, &format!("{p}.throttle.per"));
                }
                Guard::MaxConcurrent(m) => {
                    self.check_group_key(e, &m.key, &format!("{p}.max_concurrent.key"));
                    self.check_positive(e, m.max, &format!("{p}.max_concurrent.max"));
                }
                Guard::Budget(b) => self.check_window(e, b.per, &format!("{p}.budget.per")),
                Guard::CircuitBreaker(c) => {
                    self.check_positive(e, c.failures, &format!("{p}.circuit_breaker.failures"));
                    self.check_window(e, c.reset_after, &format!("{p}.circuit_breaker.reset_after"));
                }
                Guard::Cooldown(d) => self.check_window(e, *d, &format!("{p}.cooldown")),
                Guard::MaxBlastRadius(b) => {
                    if b.max.is_nan() || b.max < 0.0 {
                        self.emit(
                            e,
                            &format!("{p}.max_blast_radius.max"),
                            DiagnosticKind::InvalidValue,
                            "the limit must be a number ≥ 0".into(),
                        );
                    }
                }
                Guard::Freeze(f) => {
                    if let Err(problem) = crate::freeze::FreezeCalendar::compile(f) {
                        let fp = format!("{p}.freeze.{}", problem.field);
                        self.emit(e, &fp, DiagnosticKind::InvalidValue, problem.message);
                    }
                }
                Guard::DependenciesHealthy(_) | Guard::MinHealthyReplicas(_) => {}
            }
        }
    }

    fn check_positive(&mut self, e: &Entry, v: u32, path: &str) {
        if v == 0 {
            self.emit(e, path, DiagnosticKind::InvalidValue, "must be at least 1".into());
        }
    }

    fn check_group_key(&mut self, e: &Entry, key: &str, path: &str) {
        if !(valid_node_field(key) || key == "action") {
            self.emit(e, path, DiagnosticKind::InvalidValue, format!("unknown grouping key `{key}`")).expected =
                Some("`node.id`, `node.kind`, `node.tier`, `node.label.<key>` or `action`".into());
        }
    }
}

/// Whether `field` names a node field readable by exceptions and grouping keys.
pub(crate) fn valid_node_field(field: &str) -> bool {
    matches!(field, "node.id" | "node.kind" | "node.tier")
        || field.strip_prefix("node.label.").is_some_and(|k| !k.is_empty())
}

fn collect_ids<'a>(
    c: &'a Condition,
    macros: &'a BTreeMap<String, Condition>,
    out: &mut BTreeSet<&'a str>,
    depth: usize,
) {
    if depth > MAX_MACRO_DEPTH {
        return;
    }
    let id = match c {
        Condition::Metric(p) => p.id.as_deref(),
        Condition::Log(p) => p.id.as_deref(),
        Condition::Event(p) => p.id.as_deref(),
        Condition::Forecast(p) => p.id.as_deref(),
        Condition::Alert(p) => p.id.as_deref(),
        Condition::Absent(p) => p.id.as_deref(),
        Condition::Dependency(p) => p.id.as_deref(),
        Condition::Replicas(p) => p.id.as_deref(),
        _ => None,
    };
    out.extend(id);
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| collect_ids(c, macros, out, depth)),
        Condition::AtLeast(a) => a.of.iter().for_each(|c| collect_ids(c, macros, out, depth)),
        Condition::Not(c) => collect_ids(c, macros, out, depth),
        Condition::Macro(m) => {
            if let Some(body) = macros.get(m) {
                collect_ids(body, macros, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn collect_macro_refs(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::Macro(m) => out.push(m.clone()),
        Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| collect_macro_refs(c, out)),
        Condition::AtLeast(a) => a.of.iter().for_each(|c| collect_macro_refs(c, out)),
        Condition::Not(c) => collect_macro_refs(c, out),
        _ => {}
    }
}

fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map_or(Some(0), |s| s.parse().ok())?;
    let patch = it.next().map_or(Some(0), |s| s.split(['-', '+']).next()?.parse().ok())?;
    it.next().is_none().then_some((major, minor, patch))
}

impl Topology {
    /// Loads a topology from one text (a YAML stream, or JSON when `name`
    /// ends in `.json`) holding one `Topology` document.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Topology`] error with every diagnostic found.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::Topology;
    /// let t = Topology::from_text("t.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: Topology
    /// metadata: {name: t}
    /// spec: {nodes: [{id: api, kind: service}]}
    /// "#).unwrap();
    /// assert!(t.lookup("api").is_some());
    /// ```
    pub fn from_text(name: &str, text: &str) -> Result<Topology, Error> {
        Topology::from_text_format(name, text, Format::from_name(name))
    }

    /// Loads a topology from one text in an explicit format, holding one
    /// `Topology` document.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Topology`] error with every diagnostic found.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::load::Format;
    /// use healbot_core::Topology;
    /// let text = r#"{"apiVersion": "healbot.dev/v1", "kind": "Topology", "metadata": {"name": "t"},
    ///                "spec": {"nodes": [{"id": "api", "kind": "service"}]}}"#;
    /// let t = Topology::from_text_format("<stdin>", text, Format::Json).unwrap();
    /// assert!(t.lookup("api").is_some());
    /// let err = Topology::from_text_format("empty.yaml", "", Format::Yaml).unwrap_err();
    /// assert_eq!(err.to_string(), "empty.yaml: no Topology document was given");
    /// ```
    pub fn from_text_format(name: &str, text: &str, format: Format) -> Result<Topology, Error> {
        let mut loader = Loader::new(LoadConfig::default());
        loader.add_with_format(name, text, format);
        loader
            .finish()
            .map_err(|e| {
                Error::with_diagnostics(ErrorKind::Topology, e.message().to_string(), e.diagnostics().to_vec())
            })?
            .topology
            .ok_or_else(|| Error::new(ErrorKind::Topology, format!("{name}: no Topology document was given")))
    }
}
