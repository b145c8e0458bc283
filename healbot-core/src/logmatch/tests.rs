use super::*;
use proptest::prelude::*;

fn build(specs: &[PatternSpec]) -> LogMatcher {
    let mut b = LogMatcherBuilder::new();
    for s in specs {
        b.add(s.clone());
    }
    b.build().unwrap()
}

fn ids(m: &LogMatcher, line: &str) -> Vec<usize> {
    let mut s = m.scratch();
    let mut out = Vec::new();
    m.matches(line, &mut s, &mut out);
    out.into_iter().map(PatternId::as_usize).collect()
}

/// The reference semantics: each pattern as one `regex::Regex`.
fn reference_regex(spec: &PatternSpec) -> Vec<regex::Regex> {
    let ci = spec.case_insensitive;
    let mk = |p: String| regex::RegexBuilder::new(&p).case_insensitive(ci).build().unwrap();
    match &spec.pattern {
        LogPattern::Regex(p) => vec![mk(p.clone())],
        LogPattern::Contains(all) => all.iter().map(|l| mk(regex::escape(l))).collect(),
        LogPattern::StartsWith(l) => vec![mk(format!("^{}", regex::escape(l)))],
        LogPattern::EndsWith(l) => vec![mk(format!("{}$", regex::escape(l)))],
    }
}

fn naive(specs: &[PatternSpec], line: &str) -> Vec<usize> {
    specs
        .iter()
        .enumerate()
        .filter(|(_, s)| reference_regex(s).iter().all(|r| r.is_match(line)))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn each_kind() {
    let specs = [
        PatternSpec::regex(r"timeout after \d+ms"),
        PatternSpec::contains(["disk", "full"]),
        PatternSpec::starts_with("ERROR"),
        PatternSpec::ends_with("[preauth]"),
    ];
    let m = build(&specs);
    assert_eq!(ids(&m, "ERROR: timeout after 30ms"), vec![0, 2]);
    assert_eq!(ids(&m, "the full disk"), vec![1]);
    assert_eq!(ids(&m, "disk is fine"), Vec::<usize>::new());
    assert_eq!(ids(&m, "x ERROR"), Vec::<usize>::new());
    assert_eq!(ids(&m, "Connection closed [preauth]"), vec![3]);
    assert_eq!(ids(&m, "Connection closed [preauth] "), Vec::<usize>::new());
    assert_eq!(ids(&m, "timeout after ms"), Vec::<usize>::new());
    let st = m.stats();
    assert_eq!((st.patterns, st.with_literal, st.fallback), (4, 4, 0));
}

#[test]
fn case_insensitivity() {
    let specs = [
        PatternSpec::contains(["Error"]).case_insensitive(true),
        PatternSpec::contains(["Error"]),
        PatternSpec::starts_with("warn").case_insensitive(true),
        PatternSpec::ends_with("FAILED").case_insensitive(true),
        PatternSpec::regex("kafka (?-i:Broker)").case_insensitive(true),
        PatternSpec::contains(["disk"]).case_insensitive(true),
    ];
    let m = build(&specs);
    assert_eq!(ids(&m, "an ERROR here"), vec![0]);
    assert_eq!(ids(&m, "an Error here"), vec![0, 1]);
    assert_eq!(ids(&m, "WARNING: login failed"), vec![2, 3]);
    assert_eq!(ids(&m, "KAFKA Broker down"), vec![4]);
    assert_eq!(ids(&m, "KAFKA broker down"), Vec::<usize>::new());
    // Unicode simple case folding: KELVIN SIGN and LONG S.
    assert_eq!(ids(&m, "\u{212A}afka Broker"), vec![4]);
    assert_eq!(ids(&m, "DI\u{17F}K"), vec![5]);
}

#[test]
fn patterns_sharing_literals() {
    let specs = [
        PatternSpec::contains(["block"]),
        PatternSpec::regex(r"block blk_\d+"),
        PatternSpec::regex(r"Deleting block blk_-?\d+ file"),
        PatternSpec::contains(["block", "Deleting"]),
        PatternSpec::contains(["lock"]),
    ];
    let m = build(&specs);
    assert_eq!(ids(&m, "Deleting block blk_-12 file /x"), vec![0, 2, 3, 4]);
    assert_eq!(ids(&m, "Served block blk_12 to /x"), vec![0, 1, 4]);
    assert_eq!(ids(&m, "unlocked"), vec![4]);
}

#[test]
fn alternation_of_literals_needs_no_regex() {
    let m = build(&[PatternSpec::regex("foo|bar"), PatternSpec::regex(r"\bfoo\b")]);
    assert_eq!(m.stats().unconfirmed, 1);
    assert_eq!(ids(&m, "xbarx"), vec![0]);
    assert_eq!(ids(&m, "a foo"), vec![0, 1]);
    assert_eq!(ids(&m, "afoo"), vec![0]);
    assert_eq!(ids(&m, "fo bar"), vec![0]);
}

#[test]
fn literal_free_regex_goes_to_fallback() {
    let m = build(&[PatternSpec::regex(r"\d+"), PatternSpec::contains(["x"]), PatternSpec::regex("a")]);
    let st = m.stats();
    assert_eq!((st.fallback, st.with_literal), (3, 0));
    assert_eq!(ids(&m, "abc 42 x"), vec![0, 1, 2]);
    assert_eq!(ids(&m, "none"), Vec::<usize>::new());
    let m = build(&[PatternSpec::regex(r"\d+"), PatternSpec::regex("port"), PatternSpec::contains(["y", "z"])]);
    assert_eq!(m.stats().fallback, 2);
    assert_eq!(ids(&m, "port 22 zy"), vec![0, 1, 2]);
    assert_eq!(ids(&m, "port z"), vec![1]);
}

#[test]
fn many_literal_free_patterns_share_one_pass() {
    let mut specs: Vec<PatternSpec> = (1..=12).map(|n| PatternSpec::regex(format!(r"\b\d{{{n}}}\b"))).collect();
    specs.push(PatternSpec::regex(r"\w+@\w+"));
    specs.push(PatternSpec::regex(r"^[A-Z]+:"));
    specs.push(PatternSpec::contains(["x", "y"]));
    let m = build(&specs);
    assert_eq!(m.stats().fallback, specs.len());
    for line in ["a 1 22 333 x", "ERROR: me@host 4444 y", "", "x y 123456789012"] {
        assert_eq!(ids(&m, line), naive(&specs, line), "{line:?}");
    }
}

#[test]
fn literal_sequences_use_scan_positions_correctly() {
    let specs = [
        PatternSpec::regex(r"block .*? to /.*? done"),
        PatternSpec::regex(r"xyzw.*?abab.*?abab.*?tail"),
        PatternSpec::regex(r"^head .*?abab"),
        PatternSpec::regex(r"abababab"),
    ];
    let m = build(&specs);
    for line in [
        "block 1 to /x done",
        "done block 1 to /x",
        "abab xyzw abab abab tail",
        "abab xyzw ababab tail",
        "xyzw abababab tail",
        "head ababab",
        "head\n abab",
        "block\n to / done",
        "ababababab",
    ] {
        assert_eq!(ids(&m, line), naive(&specs, line), "{line:?}");
    }
}

#[test]
fn unicode_lines() {
    let specs = [
        PatternSpec::contains(["Größe"]),
        PatternSpec::regex(r"名前=\w+"),
        PatternSpec::contains(["straße"]).case_insensitive(true),
        PatternSpec::ends_with("é"),
    ];
    let m = build(&specs);
    assert_eq!(ids(&m, "Größe: 5 名前=山田"), vec![0, 1]);
    assert_eq!(ids(&m, "STRASSE"), Vec::<usize>::new()); // simple folding only, as `regex`
    assert_eq!(ids(&m, "STRAßE café"), vec![2, 3]);
    assert_eq!(ids(&m, "🦀 crab"), Vec::<usize>::new());
}

#[test]
fn empty_line() {
    let specs = [
        PatternSpec::regex("^$"),
        PatternSpec::regex("x*"),
        PatternSpec::contains(["a"]),
        PatternSpec::starts_with(""),
        PatternSpec::contains(["abc"]),
    ];
    let m = build(&specs);
    assert_eq!(ids(&m, ""), vec![0, 1, 3]);
    assert_eq!(ids(&m, "abc"), vec![1, 2, 3, 4]);
}

#[test]
fn empty_contains_is_an_error() {
    let mut b = LogMatcherBuilder::new();
    b.add(PatternSpec::contains(["ok"]));
    b.add(PatternSpec::contains(Vec::<String>::new()));
    let err = b.build().unwrap_err();
    assert_eq!(err.index(), 1);
    assert_eq!(err.offset_in_pattern(), None);
}

#[test]
fn size_limit_is_an_error_not_oom() {
    let mut b = LogMatcherBuilder::new();
    b.add(PatternSpec::contains(["ok"]));
    b.add(PatternSpec::regex(r"\w{1000}{1000}"));
    let err = b.build().unwrap_err();
    assert_eq!(err.index(), 1);
    assert!(err.is_size_limit(), "{err}");
    assert!(err.message().contains("size limit"), "{err}");

    let mut b = LogMatcherBuilder::new();
    b.add(PatternSpec::regex(r"(?:a{1000}){1000}x"));
    assert!(b.build().unwrap_err().is_size_limit());

    let mut b = LogMatcherBuilder::new();
    b.size_limit(100);
    b.add(PatternSpec::contains(["x".repeat(200)]));
    assert!(b.build().unwrap_err().is_size_limit());
}

#[test]
fn invalid_regex_reports_offset() {
    let mut b = LogMatcherBuilder::new();
    b.add(PatternSpec::regex("ok"));
    b.add(PatternSpec::regex("status=(5xx"));
    let err = b.build().unwrap_err();
    assert_eq!(err.index(), 1);
    assert_eq!(err.offset_in_pattern(), Some(7));
    assert_eq!(err.column_in_pattern(), Some(8));
    assert!(err.to_string().contains("log pattern 1"), "{err}");

    let mut b = LogMatcherBuilder::new();
    b.add(PatternSpec::regex(r"a{2,1}"));
    let err = b.build().unwrap_err();
    assert!(err.offset_in_pattern().is_some(), "{err}");

    let mut b = LogMatcherBuilder::new();
    b.add(PatternSpec::regex(format!("{}a{}", "(".repeat(200), ")".repeat(200))));
    let err = b.build().unwrap_err();
    assert!(err.message().contains("nest"), "{err}");
}

#[test]
fn scratch_from_another_matcher_is_reset() {
    let a = build(&[PatternSpec::regex(r"a\d")]);
    let b = build(&[PatternSpec::regex(r"b\d"), PatternSpec::regex(r"c\d")]);
    let mut s = a.scratch();
    let mut out = Vec::new();
    b.matches("b1 c2", &mut s, &mut out);
    assert_eq!(out.len(), 2);
    a.matches("a1", &mut s, &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn matcher_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<LogMatcher>();
    check::<Scratch>();
}

#[test]
fn many_patterns_report_each_once_in_order() {
    let mut specs = Vec::new();
    for i in 0..300 {
        specs.push(PatternSpec::regex(format!(r"code={i}\b")));
        specs.push(PatternSpec::contains(["code="]));
    }
    let m = build(&specs);
    let got = ids(&m, "code=17 code=17 code=250");
    let mut want: Vec<usize> = (0..300).map(|i| 2 * i + 1).collect();
    want.extend([34, 500]);
    want.sort();
    assert_eq!(got, want);
}

const ALPHABET: &[&str] = &["ab", "abc", "bc", "Err", "err", "ka", "k", "ſ", "é", "x y", "a", "abab", "aaaa"];

fn lit() -> impl Strategy<Value = String> {
    proptest::sample::select(ALPHABET).prop_map(str::to_owned)
}

fn spec() -> impl Strategy<Value = PatternSpec> {
    let shape = prop_oneof![
        lit().prop_map(|l| LogPattern::Regex(regex::escape(&l))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!("{}|{}", regex::escape(&a), regex::escape(&b)))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!("{}.*{}", regex::escape(&a), regex::escape(&b)))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!(r"{}\d+{}", regex::escape(&a), regex::escape(&b)))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!("^{}.*?{}$", regex::escape(&a), regex::escape(&b)))),
        (lit(), lit(), lit()).prop_map(|(a, b, c)| LogPattern::Regex(format!(
            "(?s){}.*{}(.*){}",
            regex::escape(&a),
            regex::escape(&b),
            regex::escape(&c)
        ))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!(
            "^.*?{}.*?{}.*?$",
            regex::escape(&a),
            regex::escape(&b)
        ))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!(
            "^(.*){}(.*?){}$",
            regex::escape(&a),
            regex::escape(&b)
        ))),
        lit().prop_map(|l| LogPattern::Regex(format!("^{}", regex::escape(&l)))),
        lit().prop_map(|l| LogPattern::Regex(format!(r"{}\b", regex::escape(&l)))),
        lit().prop_map(|l| LogPattern::Regex(format!("(?:{})+$", regex::escape(&l)))),
        Just(LogPattern::Regex(r"\d+".into())),
        Just(LogPattern::Regex(r"[a-c]{2}".into())),
        Just(LogPattern::Regex(r"[Ee]rr?".into())),
        proptest::collection::vec(lit(), 1..3).prop_map(LogPattern::Contains),
        lit().prop_map(LogPattern::StartsWith),
        lit().prop_map(LogPattern::EndsWith),
    ];
    (shape, any::<bool>()).prop_map(|(pattern, case_insensitive)| PatternSpec { pattern, case_insensitive })
}

fn line() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(
        &[
            "a", "b", "c", "E", "r", "R", "e", "K", "k", "\u{212A}", "S", "ſ", "s", "é", "É", "1", "2", " ", "x", "y",
            "ab", "abc", "Err", "ERR", "ka", "\n",
        ][..],
    );
    proptest::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn matches_equals_naive_loop(specs in proptest::collection::vec(spec(), 1..8), lines in proptest::collection::vec(line(), 1..8)) {
        let m = build(&specs);
        let mut s = m.scratch();
        let mut out = Vec::new();
        for l in &lines {
            m.matches(l, &mut s, &mut out);
            let got: Vec<usize> = out.iter().map(|p| p.as_usize()).collect();
            prop_assert_eq!(got, naive(&specs, l), "line {:?}", l);
        }
    }
}

/// What [`LogMatcher::for_each_match_by_line`] must give: each line of
/// `text` (as `split_lines` splits it) searched on its own.
fn line_by_line(m: &LogMatcher, text: &str) -> (usize, Vec<(usize, usize)>) {
    let mut s = m.scratch();
    let mut out = Vec::new();
    let mut got = Vec::new();
    let mut lines = 0;
    for (i, line) in crate::telemetry::split_lines(text.as_bytes()).enumerate() {
        lines += 1;
        m.matches(std::str::from_utf8(line).unwrap(), &mut s, &mut out);
        got.extend(out.iter().map(|p| (i, p.as_usize())));
    }
    (lines, got)
}

fn by_line(m: &LogMatcher, text: &str, s: &mut Scratch) -> (usize, Vec<(usize, usize)>) {
    let mut got = Vec::new();
    let lines = m.for_each_match_by_line(text, s, |i, p| got.push((i, p.as_usize())));
    (lines, got)
}

/// Literals long enough for the sampled scan, one holding a line break.
const LONG: &[&str] = &["connection refused", "Connection Refused", "refused\nretry", "pool exhausted", "timeout\r"];

fn long_spec() -> impl Strategy<Value = PatternSpec> {
    let lit = || proptest::sample::select(LONG).prop_map(str::to_owned);
    let shape = prop_oneof![
        proptest::collection::vec(lit(), 1..3).prop_map(LogPattern::Contains),
        lit().prop_map(LogPattern::StartsWith),
        lit().prop_map(LogPattern::EndsWith),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!("{}.*{}", regex::escape(&a), regex::escape(&b)))),
        (lit(), lit()).prop_map(|(a, b)| LogPattern::Regex(format!(r"{}\d*{}", regex::escape(&a), regex::escape(&b)))),
    ];
    (shape, any::<bool>()).prop_map(|(pattern, case_insensitive)| PatternSpec { pattern, case_insensitive })
}

fn text() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(
        &["connection ", "refused", "Refused", "pool exhausted", "timeout", "\r", "\n", "\r\n", " ", "é", "12", "ab"][..],
    );
    proptest::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn by_line_equals_line_by_line(
        specs in prop_oneof![
            // Literals only: lines without a literal are passed over.
            proptest::collection::vec(long_spec(), 1..6),
            // Mixed, often with literal-free patterns: every line searched.
            proptest::collection::vec(prop_oneof![long_spec(), spec()], 1..6),
        ],
        text in text(),
    ) {
        let m = build(&specs);
        let mut s = m.scratch();
        prop_assert_eq!(by_line(&m, &text, &mut s), line_by_line(&m, &text), "text {:?}", text);
        // The scratch is left ready for the next text.
        prop_assert_eq!(by_line(&m, &text, &mut s), line_by_line(&m, &text));
    }
}

#[test]
fn by_line_over_a_long_text() {
    let m = build(&[
        PatternSpec::contains(["connection refused"]),
        PatternSpec::regex(r"pool exhausted after \d+ms"),
        PatternSpec::ends_with("giving up"),
    ]);
    assert_eq!(m.stats().fallback, 0, "the literal-only way is the one under test");
    let mut text = String::new();
    for i in 0..5_000 {
        match i % 7 {
            0 => text.push_str("dial tcp: connection refused\r\n"),
            3 => text.push_str("pool exhausted after 30ms, giving up\n"),
            5 => text.push_str(&"x".repeat(i % 50)),
            _ => text.push_str("GET /api/cart 200 12ms\n"),
        }
        if i == 2_500 {
            // A long line, holding a match at its very end.
            text.push_str(&"y".repeat(40 << 10));
            text.push_str(" connection refused\n");
        }
    }
    assert!(text.len() > 128 << 10);
    let (lines, got) = by_line(&m, &text, &mut m.scratch());
    let (want_lines, want) = line_by_line(&m, &text);
    assert_eq!(lines, want_lines);
    assert_eq!(got, want);
    assert!(got.len() > 2_000, "{} matches", got.len());
}

#[test]
fn by_line_with_literal_free_patterns() {
    let m = build(&[PatternSpec::regex(r"\d{3}"), PatternSpec::contains(["refused"])]);
    assert_eq!(m.stats().fallback, 1);
    let text = "code 500\nrefused\n\nrefused 404\n";
    assert_eq!(by_line(&m, text, &mut m.scratch()), (4, vec![(0, 0), (1, 1), (3, 0), (3, 1)]));
    assert_eq!(by_line(&m, text, &mut m.scratch()), line_by_line(&m, text));
    let none = build(&[]);
    assert_eq!(by_line(&none, text, &mut none.scratch()), (4, vec![]));
}
