//! `Library` and `Topology`: compiled, immutable documents, shareable
//! between engines and threads, picklable through their source text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use healbot_core::load::Format;
use healbot_core::topology::NodeId;
use healbot_core::{ErrorKind, Library as CoreLibrary, Topology as CoreTopology};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::to_python;
use crate::errors::{err, guard, to_py_err};

/// Where a compiled document came from, kept so that it can be pickled and
/// rebuilt (the core compiles from text; it has no serialised form of its own).
#[derive(Clone, Debug)]
enum Origin {
    /// `(name, text)` pairs; each format from its name.
    Sources(Vec<(String, String)>),
    /// One text in an explicit format.
    Text { name: String, text: String, json: bool },
}

fn format_arg(format: Option<&str>, name: &str) -> PyResult<Format> {
    match format.map(|f| f.to_ascii_lowercase()) {
        None => Ok(Format::from_name(name)),
        Some(f) if f == "yaml" || f == "yml" => Ok(Format::Yaml),
        Some(f) if f == "json" => Ok(Format::Json),
        Some(f) => {
            Err(err(ErrorKind::InvalidArgument, format!("unknown document format `{f}`; expected yaml or json")))
        }
    }
}

fn is_document(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// The documents below `dir`, depth first. A directory reached again
/// through a symbolic link (a link back up the tree) is read once: a link
/// loop would otherwise be walked without end.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, seen: &mut BTreeSet<PathBuf>) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    // Sorted, so diagnostics and load order never depend on the file system.
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, seen)?;
        } else if is_document(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads files, expanding directories to the `.yaml`, `.yml` and `.json`
/// documents below them (sorted).
fn read_documents(paths: &[PathBuf]) -> std::io::Result<Vec<(String, String)>> {
    let with_path = |p: &Path, e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", p.display()));
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files, &mut BTreeSet::new()).map_err(|e| with_path(p, e))?;
        } else {
            files.push(p.clone());
        }
    }
    files
        .into_iter()
        .map(|p| std::fs::read_to_string(&p).map(|text| (p.display().to_string(), text)).map_err(|e| with_path(&p, e)))
        .collect()
}

/// A validated library of signatures and actions (overrides applied).
/// Immutable and shareable: many engines and threads may use one.
#[pyclass(frozen, module = "healbot._native")]
#[derive(Debug)]
pub struct Library {
    pub(crate) inner: CoreLibrary,
    origin: Origin,
}

impl Library {
    fn build(py: Python<'_>, origin: Origin) -> PyResult<Library> {
        let inner = py.detach(|| match &origin {
            Origin::Sources(sources) => {
                CoreLibrary::from_sources(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            }
            Origin::Text { name, text, json } => {
                CoreLibrary::from_text_format(name, text, if *json { Format::Json } else { Format::Yaml })
            }
        });
        Ok(Library { inner: inner.map_err(to_py_err)?, origin })
    }
}

#[pymethods]
impl Library {
    /// Loads a library from files; a directory stands for every `.yaml`,
    /// `.yml` and `.json` document below it, sorted.
    #[staticmethod]
    #[pyo3(signature = (*paths), text_signature = "(*paths)")]
    fn load(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Library> {
        guard(|| {
            let sources = py.detach(|| read_documents(&paths))?;
            Library::build(py, Origin::Sources(sources))
        })
    }

    /// Loads a library from one text.
    #[staticmethod]
    #[pyo3(signature = (text, format = None, name = "<text>"), text_signature = "(text, format=None, name='<text>')")]
    fn from_text(py: Python<'_>, text: String, format: Option<&str>, name: &str) -> PyResult<Library> {
        guard(|| {
            let json = format_arg(format, name)? == Format::Json;
            Library::build(py, Origin::Text { name: name.to_string(), text, json })
        })
    }

    /// Loads a library from several named texts (format from each name).
    #[staticmethod]
    #[pyo3(text_signature = "(sources)")]
    fn from_sources(py: Python<'_>, sources: Vec<(String, String)>) -> PyResult<Library> {
        guard(|| Library::build(py, Origin::Sources(sources)))
    }

    /// A stable content hash (16 hex digits), stamped on every decision.
    #[getter]
    fn revision(&self) -> PyResult<&str> {
        guard(|| Ok(self.inner.revision()))
    }

    /// Signature ids, in load order.
    #[getter]
    fn signatures(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.inner.signatures().iter().map(|s| s.id.clone()).collect()))
    }

    /// Action ids, in load order.
    #[getter]
    fn actions(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.inner.actions().iter().map(|a| a.id.clone()).collect()))
    }

    /// The names of the documents, in load order.
    #[getter]
    fn document_names(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.inner.document_names().to_vec()))
    }

    /// A signature, as its document (after overrides and macros), or None.
    fn signature<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(|| self.inner.signature(id).map(|s| to_python(py, s)).transpose())
    }

    /// An action, as its document (after overrides), or None.
    fn action<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(|| self.inner.action(id).map(|a| to_python(py, a)).transpose())
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        guard(|| {
            let rebuild = py.import("healbot._native")?.getattr("_library_from_state")?;
            let state = match &self.origin {
                Origin::Sources(s) => (s.clone(), None::<(String, String, bool)>),
                Origin::Text { name, text, json } => (Vec::new(), Some((name.clone(), text.clone(), *json))),
            };
            Ok((rebuild, PyTuple::new(py, [state.into_pyobject(py)?])?))
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| {
            Ok(format!(
                "<Library revision={} signatures={} actions={}>",
                self.inner.revision(),
                self.inner.signatures().len(),
                self.inner.actions().len()
            ))
        })
    }
}

/// The pickled state of a `Library`: its sources, or one text as
/// `(name, text, is_json)`.
type LibraryState = (Vec<(String, String)>, Option<(String, String, bool)>);

/// Rebuilds a pickled `Library`.
#[pyfunction]
pub fn _library_from_state(py: Python<'_>, state: LibraryState) -> PyResult<Library> {
    let origin = match state {
        (_, Some((name, text, json))) => Origin::Text { name, text, json },
        (sources, None) => Origin::Sources(sources),
    };
    guard(|| Library::build(py, origin))
}

/// One node of the topology.
#[pyclass(frozen, module = "healbot._native")]
#[derive(Debug)]
pub struct Node {
    topology: CoreTopology,
    id: NodeId,
}

#[pymethods]
impl Node {
    /// The node id.
    #[getter]
    fn id(&self) -> PyResult<&str> {
        guard(|| Ok(self.topology.node(self.id).id()))
    }
    /// `service`, `database`, `cache`, `queue`, `host`, `pod`, `load_balancer` or `external`.
    #[getter]
    fn kind(&self) -> PyResult<&'static str> {
        guard(|| Ok(self.topology.node(self.id).kind().as_str()))
    }
    /// Tier, 1 (most critical) to 4.
    #[getter]
    fn tier(&self) -> PyResult<u8> {
        guard(|| Ok(self.topology.node(self.id).tier()))
    }
    /// Declared replicas.
    #[getter]
    fn replicas(&self) -> PyResult<u32> {
        guard(|| Ok(self.topology.node(self.id).replicas()))
    }
    /// Labels.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let d = PyDict::new(py);
            for (k, v) in self.topology.node(self.id).labels() {
                d.set_item(k, v)?;
            }
            Ok(d)
        })
    }
    /// Other names telemetry may use for the node.
    #[getter]
    fn aliases(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.topology.node(self.id).aliases().to_vec()))
    }
    /// The shard (connected part of the graph) the node belongs to.
    #[getter]
    fn shard(&self) -> PyResult<usize> {
        guard(|| Ok(self.topology.shard_of(self.id).index()))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Node>().is_ok_and(|o| {
            let o = o.get();
            o.id == self.id && std::ptr::eq(o.topology.nodes().as_ptr(), self.topology.nodes().as_ptr())
        })
    }
    fn __hash__(&self) -> u64 {
        self.id.index() as u64
    }
    fn __repr__(&self) -> PyResult<String> {
        guard(|| {
            let n = self.topology.node(self.id);
            Ok(format!("<Node {} ({}, tier {})>", n.id(), n.kind().as_str(), n.tier()))
        })
    }
}

/// How many nodes depend on a node, transitively, and their tier weight
/// (8, 4, 2, 1 for tiers 1 to 4).
#[pyclass(frozen, eq, get_all, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct BlastRadius {
    /// How many nodes depend on the node, transitively.
    nodes: usize,
    /// The sum of those nodes' tier weights.
    tier_weighted: f64,
}

#[pymethods]
impl BlastRadius {
    fn __repr__(&self) -> String {
        format!("<BlastRadius nodes={} tier_weighted={}>", self.nodes, self.tier_weighted)
    }
}

/// The compiled service dependency graph. Immutable and shareable.
#[pyclass(frozen, module = "healbot._native")]
#[derive(Debug)]
pub struct Topology {
    pub(crate) inner: CoreTopology,
    name: String,
    text: String,
    json: bool,
}

impl Topology {
    fn build(py: Python<'_>, name: String, text: String, json: bool) -> PyResult<Topology> {
        let format = if json { Format::Json } else { Format::Yaml };
        let inner = py.detach(|| CoreTopology::from_text_format(&name, &text, format));
        Ok(Topology { inner: inner.map_err(to_py_err)?, name, text, json })
    }

    fn lookup(&self, node: &str) -> PyResult<NodeId> {
        self.inner.lookup(node).ok_or_else(|| err(ErrorKind::Topology, format!("unknown node `{node}`")))
    }

    fn ids(&self, nodes: &[NodeId]) -> Vec<String> {
        nodes.iter().map(|&n| self.inner.node(n).id().to_string()).collect()
    }
}

#[pymethods]
impl Topology {
    /// Loads a topology from a file.
    #[staticmethod]
    #[pyo3(text_signature = "(path)")]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Topology> {
        guard(|| {
            let text = py.detach(|| {
                std::fs::read_to_string(&path)
                    .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
            })?;
            let name = path.display().to_string();
            let json = Format::from_name(&name) == Format::Json;
            Topology::build(py, name, text, json)
        })
    }

    /// Loads a topology from text.
    #[staticmethod]
    #[pyo3(signature = (text, format = None, name = "<text>"), text_signature = "(text, format=None, name='<text>')")]
    fn from_text(py: Python<'_>, text: String, format: Option<&str>, name: &str) -> PyResult<Topology> {
        guard(|| {
            let json = format_arg(format, name)? == Format::Json;
            Topology::build(py, name.to_string(), text, json)
        })
    }

    /// Node ids, in the topology's node order.
    #[getter]
    fn nodes(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.inner.nodes().iter().map(|n| n.id().to_string()).collect()))
    }

    /// A node by id or alias.
    fn node(&self, node: &str) -> PyResult<Node> {
        guard(|| Ok(Node { topology: self.inner.clone(), id: self.lookup(node)? }))
    }

    /// Everything `node` needs, transitively (breadth-first, nearest first).
    fn dependencies(&self, py: Python<'_>, node: &str) -> PyResult<Vec<String>> {
        guard(|| {
            let n = self.lookup(node)?;
            let found = py.detach(|| self.inner.dependencies(n, &mut self.inner.traversal()).to_vec());
            Ok(self.ids(&found))
        })
    }

    /// Everything that needs `node`, transitively: its blast radius as a list.
    fn dependents(&self, py: Python<'_>, node: &str) -> PyResult<Vec<String>> {
        guard(|| {
            let n = self.lookup(node)?;
            let found = py.detach(|| self.inner.dependents(n, &mut self.inner.traversal()).to_vec());
            Ok(self.ids(&found))
        })
    }

    /// How many nodes depend on `node`, and their tier weight.
    fn blast_radius(&self, py: Python<'_>, node: &str) -> PyResult<BlastRadius> {
        guard(|| {
            let n = self.lookup(node)?;
            let r = py.detach(|| self.inner.blast_radius(n, &mut self.inner.traversal()));
            Ok(BlastRadius { nodes: r.nodes, tier_weighted: r.tier_weighted })
        })
    }

    /// A shortest chain of dependencies from `source` to `target` (both
    /// included), or None when `target` is not a dependency of `source`.
    fn path_to_dependency(&self, source: &str, target: &str) -> PyResult<Option<Vec<String>>> {
        guard(|| {
            let (a, b) = (self.lookup(source)?, self.lookup(target)?);
            Ok(self.inner.path_to_dependency(a, b, &mut self.inner.traversal()).map(|p| self.ids(&p)))
        })
    }

    /// The shard (connected part of the graph) `node` belongs to.
    fn shard_of(&self, node: &str) -> PyResult<usize> {
        guard(|| Ok(self.inner.shard_of(self.lookup(node)?).index()))
    }

    /// Every shard's node ids, indexed by shard number.
    #[getter]
    fn shards(&self) -> PyResult<Vec<Vec<String>>> {
        guard(|| Ok(self.inner.shards().iter().map(|s| self.ids(s)).collect()))
    }

    fn __len__(&self) -> PyResult<usize> {
        guard(|| Ok(self.inner.len()))
    }

    fn __contains__(&self, node: &Bound<'_, PyAny>) -> PyResult<bool> {
        guard(|| Ok(node.extract::<String>().is_ok_and(|s| self.inner.lookup(&s).is_some())))
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        guard(|| {
            let rebuild = py.import("healbot._native")?.getattr("_topology_from_state")?;
            let state = (self.name.clone(), self.text.clone(), self.json).into_pyobject(py)?;
            Ok((rebuild, PyTuple::new(py, [state])?))
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| {
            Ok(format!("<Topology {} nodes={} shards={}>", self.name, self.inner.len(), self.inner.shards().len()))
        })
    }
}

/// Rebuilds a pickled `Topology`.
#[pyfunction]
pub fn _topology_from_state(py: Python<'_>, state: (String, String, bool)) -> PyResult<Topology> {
    guard(|| Topology::build(py, state.0, state.1, state.2))
}
