//! Tests for the source module: spans, budgets, scalars, and located
//! deserialization errors, for YAML and JSON alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Deserialize;

use super::*;
use crate::diagnostic::DiagnosticKind;
use crate::Duration;

const F: &str = "lib.yaml";

fn yaml_one(text: &str) -> Node {
    let (docs, diags) = parse_yaml(F, text, &Budget::default());
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:?}");
    assert_eq!(docs.len(), 1, "expected one document");
    docs.into_iter().next().unwrap()
}

fn json_one(text: &str) -> Node {
    let (node, diags) = parse_json("lib.json", text, &Budget::default());
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:?}");
    node.unwrap()
}

fn yaml_err(text: &str) -> Diagnostic {
    let (_, diags) = parse_yaml(F, text, &Budget::default());
    assert_eq!(diags.len(), 1, "expected one diagnostic, got {diags:?}");
    diags.into_iter().next().unwrap()
}

fn json_err(text: &str) -> Diagnostic {
    let (node, diags) = parse_json("lib.json", text, &Budget::default());
    assert!(node.is_none());
    assert_eq!(diags.len(), 1, "expected one diagnostic, got {diags:?}");
    diags.into_iter().next().unwrap()
}

fn pos(n: &Node) -> (u32, u32) {
    (n.span.line, n.span.column)
}

fn at<'a>(root: &'a Node, path: &str) -> &'a Node {
    root.at_path(path).unwrap_or_else(|| panic!("no node at {path}"))
}

fn where_(d: &Diagnostic) -> (DiagnosticKind, u32, u32, &str) {
    (d.kind, d.line, d.column, d.path.as_str())
}

// ---------------------------------------------------------------- spans

#[test]
fn yaml_block_spans() {
    let text = "\
# a comment
kind: Library
spec:
  signatures:
    - id: a
      tags:
        - x
        - y
    - id: b
  empty:
";
    let root = yaml_one(text);
    assert_eq!(pos(&root), (2, 1));
    assert_eq!(pos(at(&root, "kind")), (2, 7));
    assert_eq!(pos(at(&root, "spec")), (4, 3));
    assert_eq!(pos(at(&root, "spec.signatures")), (5, 5));
    assert_eq!(pos(at(&root, "spec.signatures[0]")), (5, 7));
    assert_eq!(pos(at(&root, "spec.signatures[0].id")), (5, 11));
    assert_eq!(pos(at(&root, "spec.signatures[0].tags[1]")), (8, 11));
    assert_eq!(pos(at(&root, "spec.signatures[1].id")), (9, 11));
    assert!(at(&root, "spec.empty").is_null());
    // Keys have spans too.
    let Value::Map(entries) = &root.value else { panic!("root is not a map") };
    assert_eq!(pos(&entries[1].0), (3, 1));
}

#[test]
fn yaml_flow_spans() {
    let text = "a: {b: [1, {c: d}], e: \"q\"}\nf: [x,\n    y]\n";
    let root = yaml_one(text);
    assert_eq!(pos(at(&root, "a")), (1, 4));
    assert_eq!(pos(at(&root, "a.b")), (1, 8));
    assert_eq!(pos(at(&root, "a.b[0]")), (1, 9));
    assert_eq!(pos(at(&root, "a.b[1]")), (1, 12));
    assert_eq!(pos(at(&root, "a.b[1].c")), (1, 16));
    assert_eq!(pos(at(&root, "a.e")), (1, 24));
    assert_eq!(pos(at(&root, "f[1]")), (3, 5));
}

#[test]
fn columns_count_characters_not_bytes() {
    let root = yaml_one("é: [ü, ö]\n");
    assert_eq!(pos(at(&root, "[\"é\"][1]")), (1, 8));
    let root = json_one("{\"é\": [\"ü\", 2]}");
    assert_eq!(pos(at(&root, "[\"é\"][1]")), (1, 13));
}

#[test]
fn json_spans() {
    let text = "{\n  \"spec\": {\n    \"items\": [1, {\"a\": true}],\n    \"n\": null\n  }\n}";
    let root = json_one(text);
    assert_eq!(pos(&root), (1, 1));
    assert_eq!(pos(at(&root, "spec")), (2, 11));
    assert_eq!(pos(at(&root, "spec.items")), (3, 14));
    assert_eq!(pos(at(&root, "spec.items[0]")), (3, 15));
    assert_eq!(pos(at(&root, "spec.items[1]")), (3, 18));
    assert_eq!(pos(at(&root, "spec.items[1].a")), (3, 24));
    assert_eq!(pos(at(&root, "spec.n")), (4, 10));
    let Value::Map(entries) = &at(&root, "spec").value else { panic!("spec is not a map") };
    assert_eq!(pos(&entries[1].0), (4, 5));
}

#[test]
fn node_helpers() {
    let root = yaml_one("a: 1\nb: [x]\n\"c.d\": {e: ~}\n");
    assert_eq!(root.type_name(), "a map");
    assert_eq!(at(&root, "a").type_name(), "an integer");
    assert_eq!(at(&root, "b").type_name(), "a list");
    assert_eq!(at(&root, "b[0]").type_name(), "a string");
    assert_eq!(at(&root, "[\"c.d\"].e").type_name(), "null");
    assert_eq!(at(&root, "a").scalar_text(), Some("1"));
    assert_eq!(at(&root, "a").as_str(), None);
    assert!(root.get("zz").is_none());
    assert!(root.at_path("b[1]").is_none());
    assert!(root.at_path("a.b").is_none());
    assert!(root.at_path("b[x]").is_none());
    assert!(root.at_path("b[0").is_none());
    assert!(root.at_path("a..b").is_none());
    assert_eq!(root.at_path(""), Some(&root));
    assert_eq!(path_key("", "a b"), "[\"a b\"]");
    assert_eq!(path_key("x", "q\"\\"), "x[\"q\\\"\\\\\"]");
    let odd = yaml_one("\"q\\\"\\\\\": 1\n");
    assert_eq!(odd.at_path(&path_key("", "q\"\\")).unwrap().scalar_text(), Some("1"));
}

// ---------------------------------------------------------------- streams

#[test]
fn multi_document_streams() {
    let text = "a: 1\n---\nb: 2\n---\n- x\n...\n---\nplain\n";
    let (docs, diags) = parse_yaml(F, text, &Budget::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(docs.len(), 4);
    assert_eq!(pos(at(&docs[1], "b")), (3, 4));
    assert_eq!(pos(&docs[2]), (5, 1));
    assert_eq!(docs[3].as_str(), Some("plain"));
    assert_eq!(pos(&docs[3]), (8, 1));

    let (docs, _) = parse_yaml(F, "", &Budget::default());
    assert!(docs.is_empty());
    let (docs, _) = parse_yaml(F, "# only a comment\n", &Budget::default());
    assert!(docs.is_empty());
}

#[test]
fn documents_before_a_syntax_error_are_kept() {
    let text = "a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 3\n";
    let (docs, diags) = parse_yaml(F, text, &Budget::default());
    assert_eq!(docs.len(), 2);
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    assert_eq!(d.file, F);
    assert_eq!((d.line, d.column), (6, 2));
    assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let d = yaml_err("a: 1\n  b: 2\n");
    assert_eq!((d.kind, d.line, d.column), (DiagnosticKind::Syntax, 2, 4));
    let d = yaml_err("a: \"unterminated\n");
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    let d = yaml_err("a: *nope\n");
    assert_eq!((d.kind, d.line, d.column), (DiagnosticKind::Syntax, 1, 4));
    let d = yaml_err("a: &x [1, *x]\n");
    assert_eq!(where_(&d), (DiagnosticKind::Syntax, 1, 11, "a[1]"));
    assert!(d.message.contains("cannot contain its own alias"), "{}", d.message);
}

// ---------------------------------------------------------------- scalars

#[test]
fn core_schema_scalars() {
    let text = "\
n1: ~
n2: null
n3:
b1: true
b2: False
i1: 42
i2: -7
i3: 0x1F
i4: 0o17
i5: +3
f1: 1.5
f2: -.inf
f3: .NaN
f4: 1e3
f5: .5
s1: yes
s2: '42'
s3: \"true\"
s4: 0x
s5: 1.2.3
s6: |
  block
big: 99999999999999999999
";
    let root = yaml_one(text);
    let v = |p: &str| at(&root, p).value.clone();
    assert_eq!(v("n1"), Value::Null);
    assert_eq!(v("n2"), Value::Null);
    assert_eq!(v("n3"), Value::Null);
    assert_eq!(v("b1"), Value::Bool(true));
    assert_eq!(v("b2"), Value::Bool(false));
    assert_eq!(v("i1"), Value::Int(42));
    assert_eq!(v("i2"), Value::Int(-7));
    assert_eq!(v("i3"), Value::Int(31));
    assert_eq!(v("i4"), Value::Int(15));
    assert_eq!(v("i5"), Value::Int(3));
    assert_eq!(v("f1"), Value::Float(1.5));
    assert_eq!(v("f2"), Value::Float(f64::NEG_INFINITY));
    assert!(matches!(v("f3"), Value::Float(f) if f.is_nan()));
    assert_eq!(v("f4"), Value::Float(1000.0));
    assert_eq!(v("f5"), Value::Float(0.5));
    assert_eq!(v("s1"), Value::String("yes".into()));
    assert_eq!(v("s2"), Value::String("42".into()));
    assert_eq!(v("s3"), Value::String("true".into()));
    assert_eq!(v("s4"), Value::String("0x".into()));
    assert_eq!(v("s5"), Value::String("1.2.3".into()));
    assert_eq!(v("s6"), Value::String("block\n".into()));
    assert_eq!(v("big"), Value::Float(1e20));
    assert_eq!(at(&root, "i3").raw.as_deref(), Some("0x1F"));
    assert_eq!(at(&root, "s2").raw, None);
}

#[test]
fn tags() {
    let root = yaml_one("a: !!str 1\nb: ! 2\nc: !!int \"7\"\nd: !!map {x: 1}\ne: !!float 3\n");
    assert_eq!(at(&root, "a").value, Value::String("1".into()));
    assert_eq!(at(&root, "b").value, Value::String("2".into()));
    assert_eq!(at(&root, "c").value, Value::Int(7));
    assert_eq!(at(&root, "e").value, Value::Float(3.0));
    let d = yaml_err("a: 1\nb: !secret x\n");
    assert_eq!(where_(&d), (DiagnosticKind::Syntax, 2, 4, "b"));
    assert!(d.message.contains("`!secret`"), "{}", d.message);
    let d = yaml_err("a: !!int x\n");
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    assert!(d.message.contains("!!int"), "{}", d.message);
    let d = yaml_err("a: !!seq {x: 1}\n");
    assert_eq!(d.kind, DiagnosticKind::Syntax);
}

#[test]
fn duplicate_keys_are_syntax_errors() {
    let d = yaml_err("spec:\n  a: 1\n  b: 2\n  a: 3\n");
    assert_eq!(where_(&d), (DiagnosticKind::Syntax, 4, 3, "spec.a"));
    assert!(d.message.contains("line 2, column 3"), "{}", d.message);
    // `1` and `"1"` are the same key to a string-keyed map.
    let d = yaml_err("{1: a, \"1\": b}\n");
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    let d = json_err("{\"x\": {\"a\": 1,\n \"a\": 2}}");
    assert_eq!(where_(&d), (DiagnosticKind::Syntax, 2, 2, "x.a"));
}

// ---------------------------------------------------------------- aliases

#[test]
fn aliases_copy_the_anchored_subtree() {
    let text = "base: &b {x: 1, y: [2, 3]}\nuse: *b\n";
    let root = yaml_one(text);
    assert_eq!(at(&root, "use.y").value, at(&root, "base.y").value);
    // The copy's root sits at the alias; what is inside stays where it was written.
    assert_eq!(pos(at(&root, "use")), (2, 6));
    assert_eq!(pos(at(&root, "use.x")), (1, 14));
}

fn alias_bomb(levels: usize) -> String {
    let mut text = String::from("l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..levels {
        let refs = vec![format!("*l{}", i - 1); 9].join(",");
        text.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    text
}

#[test]
fn alias_bomb_hits_the_node_limit() {
    let (docs, diags) = parse_yaml(F, &alias_bomb(9), &Budget::default());
    assert!(docs.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, DiagnosticKind::Limit);
    assert!(diags[0].message.contains("1000000 nodes"), "{}", diags[0].message);
    // A small one within budget expands fully.
    let root = yaml_one(&alias_bomb(3));
    let Value::Seq(items) = &at(&root, "l2").value else { panic!("not a list") };
    assert_eq!(items.len(), 9);
    // A tighter budget stops earlier.
    let tight = Budget { max_nodes: 500, ..Budget::default() };
    let (_, diags) = parse_yaml(F, &alias_bomb(4), &tight);
    assert_eq!(diags[0].kind, DiagnosticKind::Limit);
}

#[test]
fn alias_text_copies_are_bounded() {
    let big = "x".repeat(1000);
    let mut text = format!("a: &a \"{big}\"\nb: [");
    text.push_str(&vec!["*a"; 200].join(","));
    text.push_str("]\n");
    let budget = Budget { max_bytes: 100_000, ..Budget::default() };
    let (_, diags) = parse_yaml(F, &text, &budget);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, DiagnosticKind::Limit);
    assert!(diags[0].message.contains("aliases copy"), "{}", diags[0].message);
}

#[test]
fn alias_deepening_the_tree_hits_the_depth_limit() {
    let budget = Budget { max_depth: 4, ..Budget::default() };
    let (_, diags) = parse_yaml(F, "a: &a [[[1]]]\n", &budget);
    assert!(diags.is_empty());
    let (_, diags) = parse_yaml(F, "a: &a [[[1]]]\nb: [*a]\n", &budget);
    assert_eq!(where_(&diags[0]), (DiagnosticKind::Limit, 2, 5, "b[0]"));
}

// ---------------------------------------------------------------- budgets

#[test]
fn oversize_input_is_rejected_before_parsing() {
    let budget = Budget { max_bytes: 10, ..Budget::default() };
    let (docs, diags) = parse_yaml(F, "a: 12345678901", &budget);
    assert!(docs.is_empty());
    assert_eq!(where_(&diags[0]), (DiagnosticKind::Limit, 1, 1, ""));
    let (node, diags) = parse_json("x.json", "[1234567890]", &budget);
    assert!(node.is_none());
    assert_eq!(diags[0].kind, DiagnosticKind::Limit);
    let (_, diags) = parse_json("x.json", "[12345678]", &budget);
    assert!(diags.is_empty());
}

#[test]
fn depth_limit_yaml_and_json() {
    let budget = Budget { max_depth: 3, ..Budget::default() };
    let (docs, diags) = parse_yaml(F, "a:\n  b:\n    c: 1\n", &budget);
    assert!(diags.is_empty());
    assert_eq!(docs.len(), 1);
    let (_, diags) = parse_yaml(F, "a:\n  b:\n    c:\n      d: 1\n", &budget);
    assert_eq!(where_(&diags[0]), (DiagnosticKind::Limit, 4, 7, "a.b.c"));
    let (_, diags) = parse_json("x.json", "[[[1]]]", &budget);
    assert!(diags.is_empty());
    let (_, diags) = parse_json("x.json", "[[[\n[1]]]]", &budget);
    assert_eq!(where_(&diags[0]), (DiagnosticKind::Limit, 2, 1, "[0][0][0]"));
}

#[test]
fn ten_thousand_deep_nesting_does_not_overflow() {
    let deep = 10_000;
    let flow = format!("{}{}", "[".repeat(deep), "]".repeat(deep));
    let block = format!("{}x\n", "- ".repeat(deep));
    let objects = format!("{}{}", "{\"a\":".repeat(deep), "}".repeat(deep));
    let generous = Budget { max_depth: usize::MAX, ..Budget::default() };
    for budget in [Budget::default(), generous] {
        let limit = budget.depth_limit();
        for text in [&flow, &block] {
            let (docs, diags) = parse_yaml(F, text, &budget);
            assert!(docs.is_empty());
            assert_eq!(diags[0].kind, DiagnosticKind::Limit);
            // saphyr-parser itself stops flow nesting at 255 levels.
            let shown = if text == &flow { limit.min(255) } else { limit };
            assert!(diags[0].message.contains(&format!("more than {shown} deep")), "{}", diags[0].message);
        }
        for text in [&flow, &objects] {
            let (node, diags) = parse_json("x.json", text, &budget);
            assert!(node.is_none());
            assert_eq!(diags[0].kind, DiagnosticKind::Limit);
        }
    }
}

#[test]
fn the_deepest_allowed_tree_deserializes() {
    let budget = Budget { max_depth: usize::MAX, ..Budget::default() };
    let n = Budget::DEPTH_CAP;
    let block = format!("{}1\n", "- ".repeat(n));
    let (docs, diags) = parse_yaml(F, &block, &budget);
    assert!(diags.is_empty(), "{diags:?}");
    let text = format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let (json, diags) = parse_json("x.json", &text, &budget);
    assert!(diags.is_empty(), "{diags:?}");
    let v: serde_json::Value = from_node(F, &docs[0], "").unwrap();
    let w: serde_json::Value = from_node(F, &json.unwrap(), "").unwrap();
    assert!(v == w, "YAML and JSON trees differ");
    let mut depth = 0;
    let mut cur = &v;
    while let serde_json::Value::Array(items) = cur {
        depth += 1;
        cur = &items[0];
    }
    assert_eq!(depth, n);
}

#[test]
fn node_limit_yaml_and_json() {
    let budget = Budget { max_nodes: 10, ..Budget::default() };
    // A map of 4 entries is 1 + 4 keys + 4 values = 9 nodes.
    let (_, diags) = parse_yaml(F, "{a: 1, b: 2, c: 3, d: 4}", &budget);
    assert!(diags.is_empty());
    let (_, diags) = parse_yaml(F, "{a: 1, b: 2, c: 3, d: 4, e: 5}", &budget);
    assert_eq!(where_(&diags[0]), (DiagnosticKind::Limit, 1, 29, "e"));
    let (_, diags) = parse_json("x.json", "[1,2,3,4,5,6,7,8,9]", &budget);
    assert!(diags.is_empty());
    let (_, diags) = parse_json("x.json", "[1,2,3,4,5,6,7,8,9,10]", &budget);
    assert_eq!(where_(&diags[0]), (DiagnosticKind::Limit, 1, 20, "[9]"));
    // The count runs over the whole stream.
    let (docs, diags) = parse_yaml(F, "[1, 2, 3]\n---\n[4, 5, 6]\n---\n[7, 8, 9]\n", &budget);
    assert_eq!(docs.len(), 2);
    assert_eq!(diags[0].kind, DiagnosticKind::Limit);
}

// ---------------------------------------------------------------- JSON details

#[test]
fn json_strings_and_escapes() {
    let root = json_one(r#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "plain é"]"#);
    let Value::Seq(items) = &root.value else { panic!("not a list") };
    assert_eq!(items[0].as_str(), Some("a\"b\\c/d\u{8}\u{c}\n\r\t"));
    assert_eq!(items[1].as_str(), Some("é中"));
    assert_eq!(items[2].as_str(), Some("😀"));
    assert_eq!(items[3].as_str(), Some("plain é"));

    for bad in [
        r#"["\ud83d"]"#,
        r#"["\ud83dx"]"#,
        r#"["\ud83d\u0041"]"#,
        r#"["\ude00"]"#,
        r#"["\u12"]"#,
        r#"["\q"]"#,
        "[\"tab\there\"]",
        "[\"open",
    ] {
        let d = json_err(bad);
        assert_eq!(d.kind, DiagnosticKind::Syntax, "{bad}");
    }
    let d = json_err(r#"{"k": "\ude00"}"#);
    assert_eq!(where_(&d), (DiagnosticKind::Syntax, 1, 8, "k"));
    assert!(d.message.contains("low surrogate"), "{}", d.message);
}

#[test]
fn json_numbers_and_literals() {
    let root = json_one("[0, -12, 9223372036854775807, 9223372036854775808, 1.5, -2e3, 1E-2, true, false, null]");
    let Value::Seq(items) = &root.value else { panic!("not a list") };
    let values: Vec<Value> = items.iter().map(|n| n.value.clone()).collect();
    assert_eq!(
        values,
        vec![
            Value::Int(0),
            Value::Int(-12),
            Value::Int(i64::MAX),
            Value::Float(9_223_372_036_854_775_808.0),
            Value::Float(1.5),
            Value::Float(-2000.0),
            Value::Float(0.01),
            Value::Bool(true),
            Value::Bool(false),
            Value::Null,
        ]
    );
    assert_eq!(items[1].raw.as_deref(), Some("-12"));
    for bad in ["01", "-", "1.", ".5", "1e", "+1", "1e999", "tru", "nul", "truex", "NaN"] {
        let d = json_err(bad);
        assert_eq!(d.kind, DiagnosticKind::Syntax, "{bad}");
    }
}

#[test]
fn json_syntax_errors_say_what_was_expected() {
    let d = json_err("{\"a\": 1\n \"b\": 2}");
    assert_eq!(where_(&d), (DiagnosticKind::Syntax, 2, 2, "a"));
    assert_eq!(d.expected.as_deref(), Some("`,` or `}`"));
    assert_eq!(d.found.as_deref(), Some("`\"`"));
    let d = json_err("[1, 2,]");
    assert_eq!((d.line, d.column), (1, 7));
    assert!(d.expected.as_deref().unwrap().starts_with("a JSON value"));
    let d = json_err("{\"a\": 1,}");
    assert!(d.expected.as_deref().unwrap().contains("trailing comma"));
    let d = json_err("{\"a\" 1}");
    assert_eq!(d.expected.as_deref(), Some("`:` after the key"));
    let d = json_err("");
    assert_eq!(d.found.as_deref(), Some("end of input"));
    let d = json_err("[1] [2]");
    assert_eq!((d.line, d.column), (1, 5));
    let d = json_err("{a: 1}");
    assert_eq!((d.line, d.column), (1, 2));
    // A byte-order mark is skipped; surrounding whitespace is fine.
    let root = json_one("\u{feff} \r\n {\"a\": 1} \n");
    assert_eq!(pos(at(&root, "a")), (2, 8));
}

// ---------------------------------------------------------------- deserialization

#[derive(Deserialize, Debug, PartialEq, Default)]
#[serde(rename_all = "snake_case")]
enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Condition {
    All(Vec<Condition>),
    Not(Box<Condition>),
    Metric { name: String, window: Duration, threshold: f64 },
    Absent,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Signature {
    id: String,
    version: String,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(rename = "match")]
    condition: Condition,
    #[serde(rename = "for", default)]
    hold: Option<Duration>,
    #[serde(default)]
    retries: Option<u8>,
    #[serde(default)]
    weight: Option<f64>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Spec {
    signatures: Vec<Signature>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Library {
    api_version: String,
    kind: String,
    spec: Spec,
}

const LIB_YAML: &str = "\
apiVersion: healbot/v1
kind: SignatureLibrary
spec:
  signatures:
    - id: db-down
      version: 1
      severity: high
      labels: {tier: 1, team: db}
      match:
        all:
          - metric: {name: up, window: 5m, threshold: 0}
          - not: absent
      for: 2m
      retries: 3
    - id: pool
      version: \"2\"
      match:
        metric:
          name: pool_waiters
          window: 1m
          threshold: 10.5
";

const LIB_JSON: &str = r#"{
  "apiVersion": "healbot/v1",
  "kind": "SignatureLibrary",
  "spec": {
    "signatures": [
      {
        "id": "db-down",
        "version": 1,
        "severity": "high",
        "labels": {"tier": 1, "team": "db"},
        "match": {"all": [
          {"metric": {"name": "up", "window": "5m", "threshold": 0}},
          {"not": "absent"}
        ]},
        "for": "2m",
        "retries": 3
      },
      {
        "id": "pool",
        "version": "2",
        "match": {"metric": {"name": "pool_waiters", "window": "1m", "threshold": 10.5}}
      }
    ]
  }
}"#;

fn expected_library() -> Library {
    Library {
        api_version: "healbot/v1".into(),
        kind: "SignatureLibrary".into(),
        spec: Spec {
            signatures: vec![
                Signature {
                    id: "db-down".into(),
                    version: "1".into(),
                    severity: Severity::High,
                    labels: BTreeMap::from([
                        ("team".to_string(), "db".to_string()),
                        ("tier".to_string(), "1".to_string()),
                    ]),
                    condition: Condition::All(vec![
                        Condition::Metric { name: "up".into(), window: Duration::from_secs(300), threshold: 0.0 },
                        Condition::Not(Box::new(Condition::Absent)),
                    ]),
                    hold: Some(Duration::from_secs(120)),
                    retries: Some(3),
                    weight: None,
                },
                Signature {
                    id: "pool".into(),
                    version: "2".into(),
                    severity: Severity::Medium,
                    labels: BTreeMap::new(),
                    condition: Condition::Metric {
                        name: "pool_waiters".into(),
                        window: Duration::from_secs(60),
                        threshold: 10.5,
                    },
                    hold: None,
                    retries: None,
                    weight: None,
                },
            ],
        },
    }
}

#[test]
fn yaml_and_json_deserialize_to_the_same_value() {
    let from_yaml: Library = from_node(F, &yaml_one(LIB_YAML), "").unwrap();
    let from_json: Library = from_node("lib.json", &json_one(LIB_JSON), "").unwrap();
    assert_eq!(from_yaml, expected_library());
    assert_eq!(from_json, expected_library());
    // The same holds for an untyped view.
    let y: serde_json::Value = from_node(F, &yaml_one(LIB_YAML), "").unwrap();
    let j: serde_json::Value = from_node(F, &json_one(LIB_JSON), "").unwrap();
    assert_eq!(y, j);
}

#[test]
fn deserialize_any_feeds_untyped_values() {
    let root = yaml_one("a: 1\nb: [true, ~, 2.5, x]\nc: {d: \"e\"}\n");
    let v: BTreeMap<String, serde_json::Value> = from_node(F, &root, "").unwrap();
    assert_eq!(v["a"], serde_json::json!(1));
    assert_eq!(v["b"], serde_json::json!([true, null, 2.5, "x"]));
    assert_eq!(v["c"], serde_json::json!({"d": "e"}));
}

/// Parses `LIB_YAML` with `from` replaced by `to` and deserializes it, expecting an error.
fn lib_error(from: &str, to: &str) -> Diagnostic {
    assert!(LIB_YAML.contains(from), "{from:?} is not in the test document");
    let text = LIB_YAML.replacen(from, to, 1);
    from_node::<Library>(F, &yaml_one(&text), "").unwrap_err()
}

#[test]
fn unknown_field_points_at_the_key() {
    let d = lib_error("      threshold: 10.5", "      treshold: 10.5");
    assert_eq!(where_(&d), (DiagnosticKind::UnknownField, 21, 11, "spec.signatures[1].match.metric.treshold"));
    assert_eq!(d.message, "unknown field `treshold`");
    assert_eq!(d.expected.as_deref(), Some("one of `name`, `window`, `threshold`"));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `threshold`?"));
    assert_eq!(
        d.to_string(),
        "lib.yaml:21:11: error[unknown-field]: unknown field `treshold` \
         (at spec.signatures[1].match.metric.treshold); \
         expected one of `name`, `window`, `threshold`; did you mean `threshold`?"
    );

    let d = lib_error("      labels:", "      lables:");
    assert_eq!(where_(&d), (DiagnosticKind::UnknownField, 8, 7, "spec.signatures[0].lables"));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `labels`?"));
    assert!(d.expected.as_deref().unwrap().contains("`match`"));
}

#[test]
fn missing_field_points_at_the_map() {
    let d = lib_error("      version: \"2\"\n", "");
    assert_eq!(where_(&d), (DiagnosticKind::MissingField, 15, 7, "spec.signatures[1]"));
    assert_eq!(d.message, "missing field `version`");
    let d = lib_error("          window: 1m\n", "");
    assert_eq!(where_(&d), (DiagnosticKind::MissingField, 19, 11, "spec.signatures[1].match.metric"));
}

#[test]
fn wrong_type_says_expected_and_found() {
    let text = "apiVersion: v1\nkind: k\nspec:\n  signatures: oops\n";
    let d = from_node::<Library>(F, &yaml_one(text), "").unwrap_err();
    assert_eq!(where_(&d), (DiagnosticKind::InvalidType, 4, 15, "spec.signatures"));
    assert_eq!(d.expected.as_deref(), Some("a list"));
    assert_eq!(d.found.as_deref(), Some("a string"));

    let d = lib_error("name: up", "name: [up]");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidType, 11, 28, "spec.signatures[0].match.all[0].metric.name"));
    assert_eq!((d.expected.as_deref(), d.found.as_deref()), (Some("a string"), Some("a list")));

    let d = lib_error("threshold: 10.5", "threshold: high");
    assert_eq!(d.kind, DiagnosticKind::InvalidType);
    assert_eq!((d.expected.as_deref(), d.found.as_deref()), (Some("a number"), Some("a string")));

    let d = lib_error("retries: 3", "retries: \"3\"");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidType, 14, 16, "spec.signatures[0].retries"));
    assert_eq!(d.expected.as_deref(), Some("an integer"));

    // Null is not a string, even though other unquoted scalars are.
    let d = lib_error("id: pool", "id:");
    assert_eq!(d.kind, DiagnosticKind::InvalidType);
    assert_eq!(d.found.as_deref(), Some("null"));

    let text = "apiVersion: v1\nkind: k\nspec: [signatures]\n";
    let d = from_node::<Library>(F, &yaml_one(text), "").unwrap_err();
    assert_eq!(where_(&d), (DiagnosticKind::InvalidType, 3, 7, "spec"));
    assert_eq!((d.expected.as_deref(), d.found.as_deref()), (Some("a map"), Some("a list")));
}

#[test]
fn out_of_range_integers_are_invalid_values() {
    let d = lib_error("retries: 3", "retries: 300");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidValue, 14, 16, "spec.signatures[0].retries"));
    assert_eq!(d.expected.as_deref(), Some("an integer from 0 to 255"));
    let d = lib_error("retries: 3", "retries: -1");
    assert_eq!(d.kind, DiagnosticKind::InvalidValue);
    let d = lib_error("retries: 3", "retries: 2.5");
    assert_eq!(d.kind, DiagnosticKind::InvalidType);
}

#[test]
fn unknown_variants_are_invalid_values_with_suggestions() {
    let d = lib_error("severity: high", "severity: hihg");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidValue, 7, 17, "spec.signatures[0].severity"));
    assert_eq!(d.message, "unknown variant `hihg`");
    assert_eq!(d.expected.as_deref(), Some("one of `low`, `medium`, `high`, `critical`"));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `high`?"));

    // In the map form the variant name is a key, and its path ends in it.
    let d = lib_error("        metric:\n", "        metrc:\n");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidValue, 18, 9, "spec.signatures[1].match.metrc"));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `metric`?"));
}

#[test]
fn enum_shape_errors_are_clear() {
    // Two keys where one names the variant.
    let d = lib_error("          - not: absent", "          - {not: absent, absent: ~}");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidValue, 12, 13, "spec.signatures[0].match.all[1]"));
    assert!(d.message.contains("exactly one key"), "{}", d.message);
    assert!(d.expected.as_deref().unwrap().contains("`all`, `not`, `metric`, `absent`"));
    assert_eq!(d.found.as_deref(), Some("a map with 2 keys"));
    // No key at all.
    let d = lib_error("          - not: absent", "          - {}");
    assert!(d.message.contains("found 0 keys"), "{}", d.message);
    // A variant that needs a value, written as a bare name.
    let d = lib_error("          - not: absent", "          - metric");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidType, 12, 13, "spec.signatures[0].match.all[1]"));
    assert_eq!(d.message, "the variant `metric` needs a value");
    // A unit variant given a value.
    let d = lib_error("          - not: absent", "          - absent: 1");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidType, 12, 21, "spec.signatures[0].match.all[1].absent"));
    // A unit variant with a null value is fine.
    let lib: Library =
        from_node(F, &yaml_one(&LIB_YAML.replacen("- not: absent", "- not: {absent: }", 1)), "").unwrap();
    assert_eq!(lib, expected_library());
    // A list is neither a name nor a map.
    let d = lib_error("          - not: absent", "          - [not]");
    assert_eq!(d.kind, DiagnosticKind::InvalidType);
    assert_eq!(d.found.as_deref(), Some("a list"));
}

#[test]
fn durations_report_invalid_duration_inside_enum_variants() {
    let d = lib_error("window: 5m", "window: 5 minutes");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidDuration, 11, 40, "spec.signatures[0].match.all[0].metric.window"));
    assert!(d.message.starts_with("invalid duration `5 minutes`"), "{}", d.message);
    let d = lib_error("for: 2m", "for: soon");
    assert_eq!(where_(&d), (DiagnosticKind::InvalidDuration, 13, 12, "spec.signatures[0].for"));
}

#[test]
fn errors_are_the_same_from_json() {
    let text = LIB_JSON.replacen("\"threshold\": 10.5", "\"treshold\": 10.5", 1);
    let d = from_node::<Library>("lib.json", &json_one(&text), "").unwrap_err();
    assert_eq!(where_(&d), (DiagnosticKind::UnknownField, 21, 70, "spec.signatures[1].match.metric.treshold"));
    assert_eq!(d.file, "lib.json");
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `threshold`?"));
}

#[test]
fn path_prefix_and_custom_errors() {
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Item {
        #[allow(dead_code)]
        #[serde(deserialize_with = "even")]
        n: u32,
    }
    fn even<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = u32::deserialize(d)?;
        if n % 2 == 0 {
            Ok(n)
        } else {
            Err(serde::de::Error::custom(format!("{n} is odd")))
        }
    }
    let root = yaml_one("items:\n  - n: 2\n  - n: 3\n");
    let node = at(&root, "items[1]");
    let d = from_node::<Item>(F, node, "items[1]").unwrap_err();
    assert_eq!(where_(&d), (DiagnosticKind::InvalidValue, 3, 8, "items[1].n"));
    assert_eq!(d.message, "3 is odd");
    let items: Vec<BTreeMap<String, u32>> = from_node(F, at(&root, "items"), "items").unwrap();
    assert_eq!(items[1]["n"], 3);
}

#[test]
fn scalars_tuples_and_big_integers() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Misc {
        pair: (String, f64),
        unit: (),
        flag: bool,
        ch: char,
        big: u64,
        neg: i128,
        small: Option<i8>,
        f: f32,
        hex: u16,
        text: String,
        boxed: Box<Option<String>>,
    }
    let root = yaml_one(
        "pair: [a, 1]\nunit: ~\nflag: true\nch: x\nbig: 18446744073709551615\nneg: -5\nsmall: ~\nf: 2\nhex: 0xFFFF\ntext: 1.50\nboxed: x\n",
    );
    let m: Misc = from_node(F, &root, "").unwrap();
    assert_eq!(
        m,
        Misc {
            pair: ("a".into(), 1.0),
            unit: (),
            flag: true,
            ch: 'x',
            big: u64::MAX,
            neg: -5,
            small: None,
            f: 2.0,
            hex: 0xFFFF,
            text: "1.50".into(),
            boxed: Box::new(Some("x".into())),
        }
    );
    let root = yaml_one("[a, 1, 2]");
    let d = from_node::<(String, f64)>(F, &root, "").unwrap_err();
    assert_eq!(d.kind, DiagnosticKind::InvalidValue);
    assert_eq!(d.expected.as_deref(), Some("a list of 2 items"));
    let d = from_node::<(String, f64)>(F, &yaml_one("[a]"), "").unwrap_err();
    assert_eq!(d.kind, DiagnosticKind::InvalidValue);
    let d = from_node::<bool>(F, &yaml_one("yes"), "").unwrap_err();
    assert_eq!(d.kind, DiagnosticKind::InvalidType);
    assert_eq!(d.found.as_deref(), Some("a string"));
    let d = from_node::<char>(F, &yaml_one("xy"), "").unwrap_err();
    assert_eq!(d.kind, DiagnosticKind::InvalidValue);
}

#[test]
fn ignored_fields_and_defaults() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Loose {
        #[serde(default)]
        a: Vec<u8>,
    }
    let v: Loose = from_node(F, &yaml_one("b: {deep: [1, {x: y}]}\n"), "").unwrap();
    assert_eq!(v, Loose { a: vec![] });
}

// ---------------------------------------------------------------- never panic

// 256 cases each by default; set PROPTEST_CASES to run more.
proptest! {
    #[test]
    fn parse_yaml_never_panics(text in "\\PC{0,64}") {
        let _ = parse_yaml(F, &text, &Budget::default());
    }

    #[test]
    fn parse_json_never_panics(text in "\\PC{0,64}") {
        let _ = parse_json("x.json", &text, &Budget::default());
    }

    #[test]
    fn structured_noise_never_panics(
        text in "([-:,\\[\\]{}&*!|>'\"#? \\n\\t.~0-9a-z\\\\]|\\\\u[dD][89aAbBcC][0-9a-f]{2}|---\\n){0,96}",
    ) {
        let budget = Budget { max_depth: 8, max_nodes: 64, ..Budget::default() };
        let (docs, _) = parse_yaml(F, &text, &budget);
        for doc in &docs {
            let _ = from_node::<serde_json::Value>(F, doc, "");
            let _ = from_node::<Library>(F, doc, "");
        }
        let (node, _) = parse_json("x.json", &text, &budget);
        if let Some(node) = node {
            let _ = from_node::<serde_json::Value>(F, &node, "");
        }
    }

    #[test]
    fn json_round_trips_through_serde_json(v in json_value()) {
        let text = serde_json::to_string_pretty(&v).unwrap();
        let (node, diags) = parse_json("x.json", &text, &Budget::default());
        prop_assert!(diags.is_empty(), "{:?}", diags);
        let back: serde_json::Value = from_node("x.json", &node.unwrap(), "").unwrap();
        prop_assert_eq!(back, v);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|i| serde_json::json!(i)),
        (-1e6f64..1e6).prop_map(|f| serde_json::json!(f)),
        "\\PC{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
