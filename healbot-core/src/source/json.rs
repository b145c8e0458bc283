//! JSON text into a spanned tree: a small recursive-descent parser whose
//! recursion is bounded by the budget's depth limit.

use std::collections::BTreeMap;

use super::{diag_at, push_index, push_key, Budget, Node, Span, Value};
use crate::diagnostic::{Diagnostic, DiagnosticKind};

/// Parses one JSON document (RFC 8259) into a [`Node`].
///
/// A top-level array (of envelopes, say) is returned as one list node. Errors
/// are [`DiagnosticKind::Syntax`] (with the line, column and what was expected)
/// or [`DiagnosticKind::Limit`]; on error no node is returned. Numbers are
/// integers when they have no fraction or exponent and fit an `i64`, floats
/// otherwise. Duplicate keys in one object are a [`DiagnosticKind::Syntax`]
/// error. A leading byte-order mark is skipped.
///
/// # Example
///
/// ```
/// use healbot_core::source::{parse_json, Budget, Value};
///
/// let (node, diags) = parse_json("t.json", "{\"a\": [1, 2.5, \"\\u00e9\"]}", &Budget::default());
/// assert!(diags.is_empty());
/// let a = node.unwrap();
/// assert_eq!(a.at_path("a[1]").unwrap().value, Value::Float(2.5));
/// assert_eq!(a.at_path("a[2]").unwrap().as_str(), Some("é"));
///
/// let (node, diags) = parse_json("t.json", "{\"a\": [1,\n 2,]}", &Budget::default());
/// assert!(node.is_none());
/// assert_eq!((diags[0].line, diags[0].column), (2, 4));
/// ```
pub fn parse_json(file: &str, text: &str, budget: &Budget) -> (Option<Node>, Vec<Diagnostic>) {
    if text.len() > budget.max_bytes {
        let d = diag_at(
            DiagnosticKind::Limit,
            file,
            Span::new(1, 1),
            "",
            format!("the input is {} bytes, more than the limit of {} bytes", text.len(), budget.max_bytes),
        )
        .with_expected(format!("at most {} bytes", budget.max_bytes));
        return (None, vec![d]);
    }
    let mut p = JsonParser {
        file,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        column: 1,
        budget,
        nodes: 0,
        path: Vec::new(),
    };
    if text.starts_with('\u{feff}') {
        p.pos = '\u{feff}'.len_utf8();
    }
    let result = p.document();
    match result {
        Ok(node) => (Some(node), Vec::new()),
        Err(d) => (None, vec![*d]),
    }
}

/// A segment of the path to the value being parsed, for diagnostics.
enum Seg {
    Index(usize),
    Key(String),
    /// Inside an object, before a key.
    Object,
}

struct JsonParser<'a> {
    file: &'a str,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    column: u32,
    budget: &'a Budget,
    nodes: usize,
    path: Vec<Seg>,
}

type Step<T> = Result<T, Box<Diagnostic>>;

impl JsonParser<'_> {
    fn span(&self) -> Span {
        Span::new(self.line, self.column)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Consumes one byte, keeping the line and the character column.
    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                // Count characters, not bytes: skip UTF-8 continuation bytes.
                self.column = self.column.saturating_add(1);
            }
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Index(i) => push_index(&mut out, *i),
                Seg::Key(k) => push_key(&mut out, k),
                Seg::Object => {}
            }
        }
        out
    }

    /// What is at the cursor, for "found ..." in diagnostics.
    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            None => "end of input".to_string(),
            Some(c) if c.is_control() => format!("{:?}", c),
            Some(c) => format!("`{c}`"),
        }
    }

    fn error_at(&self, span: Span, kind: DiagnosticKind, message: String) -> Box<Diagnostic> {
        Box::new(diag_at(kind, self.file, span, self.path(), message))
    }

    /// A syntax error at the cursor: expected `expected`, found what is there.
    fn expected(&self, expected: &str) -> Box<Diagnostic> {
        let found = self.found();
        Box::new(
            diag_at(
                DiagnosticKind::Syntax,
                self.file,
                self.span(),
                self.path(),
                format!("invalid JSON: expected {expected}, found {found}"),
            )
            .with_expected(expected)
            .with_found(found),
        )
    }

    fn count_node(&mut self, span: Span) -> Step<()> {
        if self.nodes >= self.budget.max_nodes {
            let max = self.budget.max_nodes;
            return Err(Box::new(
                (*self.error_at(span, DiagnosticKind::Limit, format!("the input has more than {max} nodes")))
                    .with_expected(format!("at most {max} nodes")),
            ));
        }
        self.nodes += 1;
        Ok(())
    }

    fn document(&mut self) -> Step<Node> {
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self.expected("a JSON value"));
        }
        let node = self.value(0)?;
        self.skip_ws();
        if self.peek().is_some() {
            return Err(self.expected("the end of the input after the JSON value"));
        }
        Ok(node)
    }

    /// Parses a value; `depth` is the number of enclosing arrays and objects.
    fn value(&mut self, depth: usize) -> Step<Node> {
        let span = self.span();
        match self.peek() {
            Some(b'{') => self.object(depth, span),
            Some(b'[') => self.array(depth, span),
            Some(b'"') => {
                self.count_node(span)?;
                let s = self.string()?;
                Ok(Node::new(span, Value::String(s)))
            }
            Some(b't') => self.literal("true", Value::Bool(true), span),
            Some(b'f') => self.literal("false", Value::Bool(false), span),
            Some(b'n') => self.literal("null", Value::Null, span),
            Some(b'-' | b'0'..=b'9') => self.number(span),
            _ => Err(self.expected("a JSON value (an object, array, string, number, `true`, `false` or `null`)")),
        }
    }

    fn enter(&mut self, depth: usize, span: Span) -> Step<()> {
        let limit = self.budget.depth_limit();
        if depth >= limit {
            return Err(Box::new(
                (*self.error_at(
                    span,
                    DiagnosticKind::Limit,
                    format!("arrays and objects are nested more than {limit} deep"),
                ))
                .with_expected(format!("at most {limit} levels of nesting")),
            ));
        }
        self.count_node(span)
    }

    fn array(&mut self, depth: usize, span: Span) -> Step<Node> {
        self.enter(depth, span)?;
        self.bump(); // `[`
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Node::new(span, Value::Seq(items)));
        }
        loop {
            self.skip_ws();
            self.path.push(Seg::Index(items.len()));
            let item = self.value(depth + 1)?;
            self.path.pop();
            items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(Node::new(span, Value::Seq(items)));
                }
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize, span: Span) -> Step<Node> {
        self.enter(depth, span)?;
        self.bump(); // `{`
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Node::new(span, Value::Map(entries)));
        }
        self.path.push(Seg::Object);
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.expected(if entries.is_empty() {
                    "a string key or `}`"
                } else {
                    "a string key (JSON allows no trailing comma)"
                }));
            }
            let key_span = self.span();
            self.count_node(key_span)?;
            let key = self.string()?;
            if let Some(path_seg) = self.path.last_mut() {
                *path_seg = Seg::Key(key.clone());
            }
            if let Some(first) = seen.get(&key) {
                return Err(self.error_at(
                    key_span,
                    DiagnosticKind::Syntax,
                    format!("duplicate key `{key}` (first defined at line {}, column {})", first.line, first.column),
                ));
            }
            seen.insert(key.clone(), key_span);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.expected("`:` after the key"));
            }
            self.bump();
            self.skip_ws();
            let value = self.value(depth + 1)?;
            entries.push((Node::new(key_span, Value::String(key)), value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    self.path.pop();
                    return Ok(Node::new(span, Value::Map(entries)));
                }
                _ => return Err(self.expected("`,` or `}`")),
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value, span: Span) -> Step<Node> {
        let matches = self.bytes.get(self.pos..self.pos + word.len()).is_some_and(|b| b == word.as_bytes());
        let ends = !self.bytes.get(self.pos + word.len()).is_some_and(|b| b.is_ascii_alphanumeric());
        if !matches || !ends {
            return Err(self.expected("a JSON value (an object, array, string, number, `true`, `false` or `null`)"));
        }
        self.count_node(span)?;
        for _ in 0..word.len() {
            self.bump();
        }
        Ok(Node { span, value, raw: Some(word.to_string()) })
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.bump();
            n += 1;
        }
        n
    }

    fn number(&mut self, span: Span) -> Step<Node> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.expected("`.`, `e` or the end of the number (JSON allows no leading zeros)"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.expected("a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.bump();
            if self.digits() == 0 {
                return Err(self.expected("a digit after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(self.expected("a digit in the exponent"));
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or("");
        let value = match text.parse::<i64>() {
            Ok(i) if integer => Value::Int(i),
            _ => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Value::Float(f),
                _ => {
                    return Err(self.error_at(
                        span,
                        DiagnosticKind::Syntax,
                        format!("invalid JSON: the number `{text}` is out of range"),
                    ))
                }
            },
        };
        self.count_node(span)?;
        Ok(Node { span, value, raw: Some(text.to_string()) })
    }

    /// Parses a string starting at its opening quote.
    fn string(&mut self) -> Step<String> {
        self.bump(); // `"`
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            // `start` and `pos` sit next to ASCII bytes, so they are char boundaries.
            out.push_str(self.text.get(start..self.pos).unwrap_or(""));
            match self.peek() {
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    let span = self.span();
                    self.bump();
                    self.escape(&mut out, span)?;
                }
                Some(_) => {
                    return Err(self.expected("a string character (control characters must be escaped, as in `\\n`)"))
                }
                None => return Err(self.expected("`\"` to close the string")),
            }
        }
    }

    /// Parses an escape after its backslash, which is at `span`.
    fn escape(&mut self, out: &mut String, span: Span) -> Step<()> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.bump();
                let first = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if self.peek() != Some(b'\\') || self.bytes.get(self.pos + 1) != Some(&b'u') {
                        return Err(self.error_at(
                            span,
                            DiagnosticKind::Syntax,
                            format!("invalid JSON: the escape `\\u{first:04X}` is a high surrogate not followed by a low surrogate `\\uDC00`..`\\uDFFF`"),
                        ));
                    }
                    self.bump();
                    self.bump();
                    let second = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.error_at(
                            span,
                            DiagnosticKind::Syntax,
                            format!("invalid JSON: the escape `\\u{first:04X}` is a high surrogate not followed by a low surrogate `\\uDC00`..`\\uDFFF`"),
                        ));
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else if (0xDC00..0xE000).contains(&first) {
                    return Err(self.error_at(
                        span,
                        DiagnosticKind::Syntax,
                        format!("invalid JSON: the escape `\\u{first:04X}` is a low surrogate without a high surrogate before it"),
                    ));
                } else {
                    first
                };
                match char::from_u32(code) {
                    Some(c) => out.push(c),
                    None => {
                        return Err(self.error_at(
                            span,
                            DiagnosticKind::Syntax,
                            "invalid JSON: the escape is not a Unicode scalar value".to_string(),
                        ))
                    }
                }
                return Ok(());
            }
            _ => {
                return Err(self
                    .expected("an escape: one of `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t`, `\\uXXXX`"))
            }
        };
        self.bump();
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Step<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(b) if b.is_ascii_hexdigit() => char::from(b).to_digit(16).unwrap_or(0),
                _ => return Err(self.expected("four hexadecimal digits after `\\u`")),
            };
            v = v * 16 + d;
            self.bump();
        }
        Ok(v)
    }
}
