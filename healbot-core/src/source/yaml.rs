//! YAML streams into spanned trees, built from `saphyr-parser` events without recursion.

use std::borrow::Cow;
use std::collections::BTreeMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use super::{diag_at, key_text, push_index, push_key, Budget, Node, Span, Value};
use crate::diagnostic::{Diagnostic, DiagnosticKind};

/// Parses a YAML stream into one [`Node`] per document.
///
/// Syntax errors and budget overruns become [`Diagnostic`]s of kind
/// [`DiagnosticKind::Syntax`] or [`DiagnosticKind::Limit`] with the file, line
/// and column (and, where the parser knows it, the path inside the document).
/// Parsing stops at the first error; the documents completed before it are
/// still returned.
///
/// - Plain scalars resolve by the YAML 1.2 core schema (see the
///   [module docs](super)); quoted and block scalars are strings.
/// - A repeated key in one mapping is a [`DiagnosticKind::Syntax`] error.
/// - Aliases copy the anchored subtree; the copies count against
///   [`Budget::max_nodes`] (and their text against [`Budget::max_bytes`]) so an
///   alias bomb stops at the limit without using more memory than the budget.
/// - Tags: `!!str` and the non-specific `!` force a scalar to be a string;
///   `!!map`, `!!seq`, `!!int`, `!!float`, `!!bool` and `!!null` are accepted when
///   they agree with the value. Any other tag is a [`DiagnosticKind::Syntax`] error.
/// - Merge keys (`<<`) are YAML 1.1 and get no special treatment.
///
/// # Example
///
/// ```
/// use healbot_core::source::{parse_yaml, Budget, Value};
///
/// let text = "kind: A\n---\nkind: B\nlist: [1, x\n";
/// let (docs, diags) = parse_yaml("lib.yaml", text, &Budget::default());
/// assert_eq!(docs.len(), 1); // the first document is kept
/// assert_eq!(docs[0].get("kind").unwrap().value, Value::String("A".into()));
/// assert_eq!(diags.len(), 1);
/// assert_eq!(diags[0].kind, healbot_core::DiagnosticKind::Syntax);
/// assert_eq!(diags[0].line, 5);
/// ```
pub fn parse_yaml(file: &str, text: &str, budget: &Budget) -> (Vec<Node>, Vec<Diagnostic>) {
    let mut docs = Vec::new();
    let mut diags = Vec::new();
    if text.len() > budget.max_bytes {
        diags.push(
            diag_at(
                DiagnosticKind::Limit,
                file,
                Span::new(1, 1),
                "",
                format!("the input is {} bytes, more than the limit of {} bytes", text.len(), budget.max_bytes),
            )
            .with_expected(format!("at most {} bytes", budget.max_bytes)),
        );
        return (docs, diags);
    }
    let mut builder = Builder::new(file, budget);
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_event() {
            None => break,
            Some(Err(e)) => {
                diags.push(builder.scan_error(&e));
                break;
            }
            Some(Ok((event, span))) => match builder.event(event, span.start) {
                Ok(Some(doc)) => docs.push(doc),
                Ok(None) => {}
                Err(d) => {
                    diags.push(*d);
                    break;
                }
            },
        }
    }
    (docs, diags)
}

/// The deepest flow nesting `saphyr-parser` accepts.
const FLOW_DEPTH_CAP: usize = 255;

/// A collection under construction.
struct Frame {
    span: Span,
    anchor: usize,
    /// `tree_nodes` when the collection started (it was already counted).
    start_nodes: usize,
    /// `tree_bytes` when the collection started.
    start_bytes: usize,
    /// The greatest height of a completed child (scalars have height 0).
    height: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Text of every scalar key so far, with where it was, to reject duplicates.
        seen: BTreeMap<String, Span>,
    },
}

/// An anchored subtree and what copying it costs.
struct Anchored {
    node: Node,
    nodes: usize,
    bytes: usize,
    height: usize,
}

struct Builder<'a> {
    file: &'a str,
    budget: &'a Budget,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: BTreeMap<usize, Anchored>,
    /// Nodes in the trees built (alias copies included).
    tree_nodes: usize,
    /// Scalar text bytes in the trees built (alias copies included).
    tree_bytes: usize,
    /// Nodes held by the anchor table.
    anchor_nodes: usize,
    /// Text bytes copied by aliases and held by the anchor table.
    copied_bytes: usize,
}

type Step<T> = Result<T, Box<Diagnostic>>;

fn span_of(m: Marker) -> Span {
    Span::new(u32::try_from(m.line()).unwrap_or(u32::MAX), u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX))
}

impl<'a> Builder<'a> {
    fn new(file: &'a str, budget: &'a Budget) -> Builder<'a> {
        Builder {
            file,
            budget,
            stack: Vec::new(),
            root: None,
            anchors: BTreeMap::new(),
            tree_nodes: 0,
            tree_bytes: 0,
            anchor_nodes: 0,
            copied_bytes: 0,
        }
    }

    fn scan_error(&self, e: &ScanError) -> Diagnostic {
        let span = span_of(*e.marker());
        if e.info() == "recursion limit exceeded" {
            // The scanner counts flow nesting in a `u8` and reads ahead, so it
            // can stop before the depth budget does.
            return diag_at(
                DiagnosticKind::Limit,
                self.file,
                span,
                self.current_path(),
                format!(
                    "flow lists and maps (`[...]`, `{{...}}`) are nested more than {} deep",
                    FLOW_DEPTH_CAP.min(self.budget.depth_limit())
                ),
            )
            .with_expected(format!("at most {} levels of nesting", FLOW_DEPTH_CAP.min(self.budget.depth_limit())));
        }
        diag_at(DiagnosticKind::Syntax, self.file, span, self.current_path(), format!("invalid YAML: {}", e.info()))
    }

    fn error(&self, kind: DiagnosticKind, span: Span, message: String) -> Box<Diagnostic> {
        Box::new(diag_at(kind, self.file, span, self.current_path(), message))
    }

    /// The path of the node being built, from the frames on the stack.
    fn current_path(&self) -> String {
        let mut out = String::new();
        for frame in &self.stack {
            match &frame.kind {
                FrameKind::Seq(items) => push_index(&mut out, items.len()),
                FrameKind::Map { key: Some(k), .. } => {
                    push_key(&mut out, key_text(k).unwrap_or("?"));
                }
                FrameKind::Map { key: None, .. } => {}
            }
        }
        out
    }

    fn event(&mut self, event: Event<'_>, mark: Marker) -> Step<Option<Node>> {
        let span = span_of(mark);
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd => Ok(None),
            Event::DocumentStart(_) => {
                self.stack.clear();
                self.root = None;
                self.anchors.clear();
                self.anchor_nodes = 0;
                Ok(None)
            }
            Event::DocumentEnd => {
                self.anchors.clear();
                self.anchor_nodes = 0;
                Ok(Some(self.root.take().unwrap_or_else(|| Node::new(span, Value::Null))))
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = self.scalar(text, style, tag.as_deref(), span)?;
                let start_nodes = self.tree_nodes;
                let start_bytes = self.tree_bytes;
                self.count_nodes(1, span)?;
                self.tree_bytes = self.tree_bytes.saturating_add(scalar_bytes(&node));
                self.complete(node, 0, anchor, start_nodes, start_bytes)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", span)?;
                self.open(span, anchor, FrameKind::Seq(Vec::new()))
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", span)?;
                self.open(span, anchor, FrameKind::Map { entries: Vec::new(), key: None, seen: BTreeMap::new() })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(self.error(
                        DiagnosticKind::Syntax,
                        span,
                        "invalid YAML: unbalanced end of a collection".to_string(),
                    ));
                };
                let value = match frame.kind {
                    FrameKind::Seq(items) => Value::Seq(items),
                    FrameKind::Map { entries, .. } => Value::Map(entries),
                };
                let node = Node::new(frame.span, value);
                self.complete(node, frame.height.saturating_add(1), frame.anchor, frame.start_nodes, frame.start_bytes)
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(self.error(
                        DiagnosticKind::Syntax,
                        span,
                        "invalid YAML: the alias refers to an anchor that is not complete \
                         before it (an anchor cannot contain its own alias)"
                            .to_string(),
                    ));
                };
                let (nodes, bytes, height) = (anchored.nodes, anchored.bytes, anchored.height);
                let depth = self.stack.len().saturating_add(height);
                if depth > self.budget.depth_limit() {
                    return Err(self.depth_error(span));
                }
                self.count_nodes(nodes, span)?;
                self.count_copied_bytes(bytes, span)?;
                let mut node = match self.anchors.get(&id) {
                    Some(a) => a.node.clone(),
                    None => Node::new(span, Value::Null),
                };
                node.span = span;
                self.tree_bytes = self.tree_bytes.saturating_add(bytes);
                // An alias carries no anchor of its own, so the start counters are unused.
                self.complete(node, height, 0, 0, 0)
            }
        }
    }

    fn open(&mut self, span: Span, anchor: usize, kind: FrameKind) -> Step<Option<Node>> {
        if self.stack.len() >= self.budget.depth_limit() {
            return Err(self.depth_error(span));
        }
        let start_nodes = self.tree_nodes;
        self.count_nodes(1, span)?;
        self.stack.push(Frame { span, anchor, start_nodes, start_bytes: self.tree_bytes, height: 0, kind });
        Ok(None)
    }

    fn depth_error(&self, span: Span) -> Box<Diagnostic> {
        let limit = self.budget.depth_limit();
        Box::new(
            (*self.error(DiagnosticKind::Limit, span, format!("lists and maps are nested more than {limit} deep")))
                .with_expected(format!("at most {limit} levels of nesting")),
        )
    }

    fn check_nodes(&self, n: usize, span: Span) -> Step<()> {
        let total = self.tree_nodes.saturating_add(self.anchor_nodes).saturating_add(n);
        if total > self.budget.max_nodes {
            let max = self.budget.max_nodes;
            return Err(Box::new(
                (*self.error(
                    DiagnosticKind::Limit,
                    span,
                    format!("the input has more than {max} nodes (counting every copy an alias makes)"),
                ))
                .with_expected(format!("at most {max} nodes")),
            ));
        }
        Ok(())
    }

    fn count_nodes(&mut self, n: usize, span: Span) -> Step<()> {
        self.check_nodes(n, span)?;
        self.tree_nodes = self.tree_nodes.saturating_add(n);
        Ok(())
    }

    fn count_copied_bytes(&mut self, n: usize, span: Span) -> Step<()> {
        let total = self.copied_bytes.saturating_add(n);
        if total > self.budget.max_bytes {
            let max = self.budget.max_bytes;
            return Err(Box::new(
                (*self.error(DiagnosticKind::Limit, span, format!("aliases copy more than {max} bytes of text")))
                    .with_expected(format!("at most {max} bytes copied by aliases")),
            ));
        }
        self.copied_bytes = total;
        Ok(())
    }

    /// Records an anchor if there is one, then hands the node to its parent.
    fn complete(
        &mut self,
        node: Node,
        height: usize,
        anchor: usize,
        start_nodes: usize,
        start_bytes: usize,
    ) -> Step<Option<Node>> {
        if anchor != 0 {
            let nodes = self.tree_nodes.saturating_sub(start_nodes);
            let bytes = self.tree_bytes.saturating_sub(start_bytes);
            self.check_nodes(nodes, node.span)?;
            self.count_copied_bytes(bytes, node.span)?;
            self.anchor_nodes = self.anchor_nodes.saturating_add(nodes);
            let old = self.anchors.insert(anchor, Anchored { node: node.clone(), nodes, bytes, height });
            if let Some(old) = old {
                self.anchor_nodes = self.anchor_nodes.saturating_sub(old.nodes);
            }
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                return Ok(None);
            }
            Some(parent) => {
                parent.height = parent.height.max(height);
                match &mut parent.kind {
                    FrameKind::Seq(items) => items.push(node),
                    FrameKind::Map { entries, key, seen } => match key.take() {
                        Some(k) => entries.push((k, node)),
                        None => {
                            let mut duplicate = None;
                            if let Some(text) = key_text(&node) {
                                match seen.get(text) {
                                    Some(first) => {
                                        duplicate = Some(format!(
                                            "duplicate key `{text}` (first defined at line {}, column {})",
                                            first.line, first.column
                                        ));
                                    }
                                    None => {
                                        seen.insert(text.to_string(), node.span);
                                    }
                                }
                            }
                            let span = node.span;
                            *key = Some(node);
                            if let Some(message) = duplicate {
                                return Err(self.error(DiagnosticKind::Syntax, span, message));
                            }
                        }
                    },
                }
            }
        }
        Ok(None)
    }

    fn scalar(&self, text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Step<Node> {
        let plain = matches!(style, ScalarStyle::Plain);
        let mut node =
            if plain { resolve_plain(&text, span) } else { Node::new(span, Value::String(text.clone().into_owned())) };
        let Some(tag) = tag else {
            return Ok(node);
        };
        let core = tag.is_yaml_core_schema();
        let non_specific = tag.handle.is_empty() && tag.suffix == "!";
        if non_specific || (core && tag.suffix == "str") {
            return Ok(Node::new(span, Value::String(text.into_owned())));
        }
        if core {
            let want = tag.suffix.as_str();
            if !plain {
                // `!!int "7"`: resolve the quoted text as the tag says.
                node = resolve_plain(&text, span);
            }
            let ok = matches!(
                (want, &node.value),
                ("null", Value::Null) | ("bool", Value::Bool(_)) | ("int", Value::Int(_)) | ("float", Value::Float(_))
            );
            if ok {
                return Ok(node);
            }
            if want == "float" {
                if let Value::Int(i) = node.value {
                    node.value = Value::Float(i as f64);
                    return Ok(node);
                }
            }
            if matches!(want, "null" | "bool" | "int" | "float") {
                return Err(self.error(
                    DiagnosticKind::Syntax,
                    span,
                    format!("the tag `!!{want}` does not match the value `{text}`"),
                ));
            }
        }
        Err(self.unsupported_tag(tag, span))
    }

    fn check_collection_tag(&self, tag: Option<&Tag>, want: &str, span: Span) -> Step<()> {
        match tag {
            None => Ok(()),
            Some(t) if t.is_yaml_core_schema() && t.suffix == want => Ok(()),
            Some(t) => Err(self.unsupported_tag(t, span)),
        }
    }

    fn unsupported_tag(&self, tag: &Tag, span: Span) -> Box<Diagnostic> {
        let shown = if tag.is_yaml_core_schema() {
            format!("!!{}", tag.suffix)
        } else if tag.handle.is_empty() || tag.handle == "!" {
            format!("!{}", tag.suffix)
        } else {
            format!("{}{}", tag.handle, tag.suffix)
        };
        Box::new(
            (*self.error(DiagnosticKind::Syntax, span, format!("unsupported YAML tag `{shown}`")))
                .with_expected("a value without a tag (only `!!str` is needed, to force a string)"),
        )
    }
}

fn scalar_bytes(node: &Node) -> usize {
    match &node.value {
        Value::String(s) => s.len(),
        _ => node.raw.as_ref().map_or(0, String::len),
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
pub(crate) fn resolve_plain(text: &str, span: Span) -> Node {
    let value = match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => match resolve_number(text) {
            Some(v) => v,
            None => return Node::new(span, Value::String(text.to_string())),
        },
    };
    Node { span, value, raw: Some(text.to_string()) }
}

fn resolve_number(text: &str) -> Option<Value> {
    if let Some(i) = parse_int_text(text) {
        return Some(match i64::try_from(i) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::Float(i as f64),
        });
    }
    if is_core_int(text) {
        // Too large even for i128: a decimal integer still reads as a float.
        return text.parse::<f64>().ok().map(Value::Float);
    }
    if is_core_float(text) {
        return text.parse::<f64>().ok().map(Value::Float);
    }
    None
}

fn is_core_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An integer in core-schema syntax (`-12`, `+3`, `0x1F`, `0o17`), when it
/// fits an `i128`.
pub(crate) fn parse_int_text(text: &str) -> Option<i128> {
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return i128::from_str_radix(hex, 16).ok();
        }
        return None;
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return i128::from_str_radix(oct, 8).ok();
        }
        return None;
    }
    if is_core_int(text) {
        return text.parse::<i128>().ok();
    }
    None
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_digits = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac = digits(&mut i);
        if int_digits == 0 && frac == 0 {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}
