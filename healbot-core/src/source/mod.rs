//! The spanned document tree: YAML and JSON parsed with budgets, every node carrying its line and column.
//!
//! Documents (signature libraries, action libraries, topologies) arrive as YAML
//! streams or JSON text. Both are parsed into the same tree of [`Node`]s, each
//! with the [`Span`] where it starts, so that every later problem can be reported
//! with a file, line, column and the path inside the document. Parsing is bounded
//! by a [`Budget`] (bytes, nesting depth, nodes including alias copies), so a
//! hostile document cannot exhaust memory or the stack.
//!
//! - [`parse_yaml`] parses a YAML stream (one node per document) with `saphyr-parser`.
//! - [`parse_json`] parses one JSON document with a small recursive-descent parser.
//! - [`from_node`] deserializes any serde type from a node; its errors are
//!   [`Diagnostic`]s with the kind, position and path of the innermost offending node.
//!
//! # Example
//!
//! ```
//! use healbot_core::source::{parse_yaml, from_node, Budget};
//!
//! #[derive(serde::Deserialize, Debug, PartialEq)]
//! #[serde(deny_unknown_fields)]
//! struct Rule { name: String, threshold: f64 }
//!
//! let (docs, diags) = parse_yaml("rules.yaml", "name: cpu\nthreshold: 0.9\n", &Budget::default());
//! assert!(diags.is_empty());
//! let rule: Rule = from_node("rules.yaml", &docs[0], "").unwrap();
//! assert_eq!(rule, Rule { name: "cpu".into(), threshold: 0.9 });
//!
//! let (docs, _) = parse_yaml("rules.yaml", "name: cpu\ntreshold: 0.9\n", &Budget::default());
//! let err = from_node::<Rule>("rules.yaml", &docs[0], "").unwrap_err();
//! assert_eq!((err.line, err.column, err.path.as_str()), (2, 1, "treshold"));
//! assert_eq!(err.suggestion.as_deref(), Some("did you mean `threshold`?"));
//! ```
//!
//! # Scalars
//!
//! Plain YAML scalars resolve by the YAML 1.2 core schema (`~`, `null` and empty
//! are null; `true`/`false`; decimal, `0x` and `0o` integers; floats including
//! `.inf`, `-.inf` and `.nan`; anything else is a string). Quoted and block
//! scalars are always strings. A plain scalar that resolved to something other
//! than a string keeps its source text in [`Node::raw`], so a string-typed field
//! accepts `version: 1` as `"1"`. JSON numbers and literals keep their text the
//! same way, so YAML and JSON spellings of one document deserialize alike.
//!
//! # Duplicate keys
//!
//! A mapping that repeats a key is rejected by both parsers with a
//! [`DiagnosticKind::Syntax`] diagnostic at the second occurrence (YAML and JSON
//! both require unique keys; a silent last-one-wins would hide mistakes). Keys are
//! compared by their text, so `1` and `"1"` are duplicates.

mod de;
mod json;
mod yaml;

#[cfg(test)]
mod tests;

use std::fmt;

pub use de::from_node;
pub use json::parse_json;
pub use yaml::parse_yaml;

use crate::diagnostic::Diagnostic;
#[cfg(doc)]
use crate::diagnostic::DiagnosticKind;

/// A position in a source text: 1-based line and 1-based column, the column
/// counted in characters (not bytes).
///
/// # Example
///
/// ```
/// use healbot_core::source::Span;
/// let s = Span { line: 3, column: 7 };
/// assert_eq!(s.to_string(), "3:7");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Span {
    /// A span at `line`, `column` (both 1-based).
    pub const fn new(line: u32, column: u32) -> Span {
        Span { line, column }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Limits on what one parse may consume. What a limit rejects becomes a
/// [`DiagnosticKind::Limit`] diagnostic; nothing panics and memory stays bounded.
///
/// - `max_bytes`: the size of the input text, checked before parsing. It also
///   bounds the text copied by YAML alias expansion.
/// - `max_depth`: the nesting depth of lists and maps (a scalar document has
///   depth 0, `[1]` depth 1). Values above [`Budget::DEPTH_CAP`] are treated as
///   the cap, so that no budget can make parsing or deserializing overflow the stack.
/// - `max_nodes`: the total number of nodes (scalars, lists, maps and map keys)
///   over the whole input, counting every node an alias copies.
///
/// # Example
///
/// ```
/// use healbot_core::source::{parse_json, Budget};
/// let tight = Budget { max_depth: 2, ..Budget::default() };
/// let (node, diags) = parse_json("x.json", "[[[1]]]", &tight);
/// assert!(node.is_none());
/// assert_eq!(diags[0].kind, healbot_core::DiagnosticKind::Limit);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Budget {
    /// Maximum input size in bytes.
    pub max_bytes: usize,
    /// Maximum nesting depth of lists and maps.
    pub max_depth: usize,
    /// Maximum number of nodes, alias copies included.
    pub max_nodes: usize,
}

impl Budget {
    /// The hard ceiling on nesting depth, whatever `max_depth` says.
    pub const DEPTH_CAP: usize = 512;

    /// The effective depth limit: `max_depth`, at most [`Budget::DEPTH_CAP`].
    pub fn depth_limit(&self) -> usize {
        self.max_depth.min(Budget::DEPTH_CAP)
    }
}

impl Default for Budget {
    /// 16 MiB, depth 64, one million nodes.
    fn default() -> Budget {
        Budget { max_bytes: 16 * 1024 * 1024, max_depth: 64, max_nodes: 1_000_000 }
    }
}

/// The value of a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~`, or an empty YAML value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// Any other number (including `.inf`, `-.inf`, `.nan` in YAML).
    Float(f64),
    /// A string (every quoted or block scalar, and plain scalars that are not
    /// another type).
    String(String),
    /// A list.
    Seq(Vec<Node>),
    /// A map, in document order. Keys are nodes too (usually strings).
    Map(Vec<(Node, Node)>),
}

/// One node of a parsed document: where it starts and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node starts in the source.
    pub span: Span,
    /// The value.
    pub value: Value,
    /// The source text of a scalar written without quotes that resolved to
    /// something other than a string (`1`, `0x1F`, `true`, `~`, or the empty
    /// text of a missing value), and of JSON numbers and literals. `None` for
    /// strings and collections. String-typed fields deserialize from it.
    pub raw: Option<String>,
}

impl Node {
    /// A node without raw text.
    pub fn new(span: Span, value: Value) -> Node {
        Node { span, value, raw: None }
    }

    /// The value of the entry with the string key `key`, when this is a map.
    ///
    /// A key written as a plain non-string scalar (`1: x`) matches its text.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::source::{parse_yaml, Budget};
    /// let (docs, _) = parse_yaml("f.yaml", "kind: Topology\n", &Budget::default());
    /// assert_eq!(docs[0].get("kind").and_then(|n| n.as_str()), Some("Topology"));
    /// assert!(docs[0].get("spec").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.scalar_text() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node at `path` below this one, in the form diagnostics use:
    /// `spec.signatures[3].match.all[1].window`. Keys that are not plain
    /// words are written quoted in brackets: `labels["app.kubernetes.io/name"]`.
    /// The empty path is this node.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::source::{parse_yaml, Budget};
    /// let text = "spec:\n  items:\n    - {a: 1}\n    - {a: 2, \"x.y\": 3}\n";
    /// let (docs, _) = parse_yaml("f.yaml", text, &Budget::default());
    /// let n = docs[0].at_path("spec.items[1].a").unwrap();
    /// assert_eq!((n.span.line, n.span.column), (4, 11));
    /// assert!(docs[0].at_path("spec.items[1][\"x.y\"]").is_some());
    /// assert!(docs[0].at_path("spec.items[2]").is_none());
    /// ```
    pub fn at_path(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for seg in parse_path(path)? {
            node = match seg {
                PathSeg::Key(k) => node.get(&k)?,
                PathSeg::Index(i) => match &node.value {
                    Value::Seq(items) => items.get(i)?,
                    _ => return None,
                },
            };
        }
        Some(node)
    }

    /// What kind of value this is, as diagnostics name it: `"null"`,
    /// `"a boolean"`, `"an integer"`, `"a number"`, `"a string"`, `"a list"`
    /// or `"a map"`.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The string, when this is a string node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar: the string of a string node, or the source text
    /// of an unquoted scalar of another type (`1`, `true`). `None` for null
    /// and collections.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => self.raw.as_deref(),
        }
    }

    /// Whether this node is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

/// Appends a key segment to a diagnostic path: `.key`, or `["key"]` when the
/// key is not a plain word.
///
/// # Example
///
/// ```
/// use healbot_core::source::{path_key, path_index};
/// assert_eq!(path_key("", "spec"), "spec");
/// assert_eq!(path_key("spec", "signatures"), "spec.signatures");
/// assert_eq!(path_index("spec.signatures", 3), "spec.signatures[3]");
/// assert_eq!(path_key("labels", "app.kubernetes.io/name"), "labels[\"app.kubernetes.io/name\"]");
/// ```
pub fn path_key(prefix: &str, key: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + key.len() + 1);
    out.push_str(prefix);
    push_key(&mut out, key);
    out
}

/// Appends a list index segment to a diagnostic path: `[i]`.
pub fn path_index(prefix: &str, index: usize) -> String {
    format!("{prefix}[{index}]")
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn push_key(out: &mut String, key: &str) {
    if is_plain_key(key) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
    } else {
        out.push_str("[\"");
        for c in key.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push_str("\"]");
    }
}

pub(crate) fn push_index(out: &mut String, index: usize) {
    use fmt::Write;
    let _ = write!(out, "[{index}]");
}

enum PathSeg {
    Key(String),
    Index(usize),
}

/// Splits a diagnostic path into segments; `None` when it is malformed.
fn parse_path(path: &str) -> Option<Vec<PathSeg>> {
    let mut segs = Vec::new();
    let mut chars = path.chars().peekable();
    let mut expect_key = true;
    while let Some(&c) = chars.peek() {
        match c {
            '.' => {
                chars.next();
                expect_key = true;
                if matches!(chars.peek(), None | Some('.') | Some('[')) {
                    return None;
                }
            }
            '[' => {
                chars.next();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut key = String::new();
                    loop {
                        match chars.next()? {
                            '"' => break,
                            '\\' => match chars.next()? {
                                'n' => key.push('\n'),
                                other => key.push(other),
                            },
                            other => key.push(other),
                        }
                    }
                    segs.push(PathSeg::Key(key));
                } else {
                    let mut digits = String::new();
                    while let Some(&d) = chars.peek() {
                        if !d.is_ascii_digit() {
                            break;
                        }
                        digits.push(d);
                        chars.next();
                    }
                    segs.push(PathSeg::Index(digits.parse().ok()?));
                }
                if chars.next()? != ']' {
                    return None;
                }
                expect_key = false;
            }
            _ => {
                if !expect_key {
                    return None;
                }
                let mut key = String::new();
                while let Some(&k) = chars.peek() {
                    if k == '.' || k == '[' {
                        break;
                    }
                    key.push(k);
                    chars.next();
                }
                segs.push(PathSeg::Key(key));
                expect_key = false;
            }
        }
    }
    Some(segs)
}

/// A diagnostic at a span.
pub(crate) fn diag_at(
    kind: crate::diagnostic::DiagnosticKind,
    file: &str,
    span: Span,
    path: impl Into<String>,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(kind, file, span.line, span.column, path, message)
}

/// The text a key is known by: a string, or the source text of another scalar.
pub(crate) fn key_text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::String(s) => Some(s),
        Value::Seq(_) | Value::Map(_) => None,
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => node.raw.as_deref(),
    }
}
