//! Log matching throughput: `healbot_core::logmatch` against a loop of
//! `regex::Regex::is_match` and against `regex::RegexSet` (default settings),
//! for 10, 100 and 1,000 patterns, with literals only and with a few
//! literal-free regexes mixed in.
//!
//! Input: this benchmark reads the Loghub 2k corpora *in place* from
//! `shared/corpora/loghub-2k/{HDFS,OpenSSH,Zookeeper}_2k.log` beside the
//! workspace (never copied into the project). When that directory is absent
//! it falls back to generated lines and says so on stderr.
//!
//! Patterns: each `*_2k.log_templates.csv` template becomes a regex (`<*>`, a
//! variable field, becomes `.*?`; the rest is escaped), plus synthetic
//! variants of them to reach 1,000 (see `synthetic`).
//!
//! Run: `cargo bench -p healbot-benches --bench logmatch -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use healbot_core::logmatch::{LogMatcher, LogMatcherBuilder, PatternSpec};

const SYSTEMS: [&str; 3] = ["HDFS", "OpenSSH", "Zookeeper"];

/// `shared/corpora/loghub-2k` beside the workspace root
/// (`CARGO_MANIFEST_DIR/../../shared/...`), or beside an ancestor of it (a
/// git worktree kept one level further down).
fn corpus_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let beside_root = manifest.join("../../shared/corpora/loghub-2k");
    manifest.ancestors().map(|a| a.join("shared/corpora/loghub-2k")).find(|p| p.is_dir()).unwrap_or(beside_root)
}

/// Splits one CSV record (double-quoted fields may hold commas and `""`).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

/// A template's regex: literal text escaped, `<*>` → `.*?`.
fn template_regex(template: &str) -> String {
    template.split("<*>").map(regex::escape).collect::<Vec<_>>().join(".*?")
}

struct Corpus {
    lines: Vec<String>,
    templates: Vec<String>,
    real: bool,
}

fn load() -> Corpus {
    let dir = corpus_dir();
    let mut lines = Vec::new();
    let mut per_system: Vec<Vec<String>> = Vec::new();
    for sys in SYSTEMS {
        let log = std::fs::read_to_string(dir.join(format!("{sys}_2k.log")));
        let tpl = std::fs::read_to_string(dir.join(format!("{sys}_2k.log_templates.csv")));
        let (Ok(log), Ok(tpl)) = (log, tpl) else {
            continue;
        };
        lines.extend(log.lines().map(str::to_owned));
        per_system.push(tpl.lines().skip(1).filter_map(|l| csv_fields(l).get(1).cloned()).collect());
    }
    // Interleave the systems so the 10-pattern set draws from all three.
    let mut templates = Vec::new();
    for i in 0.. {
        let before = templates.len();
        for sys in &per_system {
            if let Some(t) = sys.get(i) {
                templates.push(t.clone());
            }
        }
        if templates.len() == before {
            break;
        }
    }
    if lines.is_empty() || templates.is_empty() {
        eprintln!("logmatch bench: {} not found; using generated lines", dir.display());
        return generated();
    }
    Corpus { lines, templates, real: true }
}

fn generated() -> Corpus {
    let templates: Vec<String> = [
        "PacketResponder <*> for block blk_<*> terminating",
        "Received block blk_<*> of size <*> from /<*>",
        "Accepted password for <*> from <*> port <*> ssh2",
        "Invalid user <*> from <*>",
        "Connection closed by <*> [preauth]",
        "Received connection request /<*>:<*>",
        "Notification time out: <*>",
        "Expiring session <*>, timeout of <*>ms exceeded",
    ]
    .map(str::to_owned)
    .to_vec();
    let mut lines = Vec::new();
    for i in 0..6000u64 {
        let t = &templates[(i as usize * 7) % templates.len()];
        let mut parts = t.split("<*>");
        let mut line = format!("2015-07-29 17:41:{:02},{:03} INFO  [worker-{}] - ", i % 60, i % 1000, i % 13);
        line.push_str(parts.next().unwrap_or(""));
        for (k, p) in parts.enumerate() {
            line.push_str(&format!("{}", i.wrapping_mul(2654435761).wrapping_add(k as u64) % 100_000));
            line.push_str(p);
        }
        lines.push(line);
    }
    Corpus { lines, templates, real: false }
}

/// Synthetic variants of the templates, standing in for a large library
/// with many systems' signatures. They are built to share literals with the
/// real templates (so the prefilter produces candidates that confirmation
/// must reject), not to be trivially disjoint:
/// - `k % 4 == 0`: the longest literal word replaced by a synthetic word;
/// - `k % 4 == 1`: the template after a component tag `svc<k>: `;
/// - `k % 4 == 2`: the template followed by ` (attempt <k>)`;
/// - `k % 4 == 3`: the template with a word replaced, case-insensitive.
fn synthetic(templates: &[String], k: usize) -> PatternSpec {
    let t = &templates[k % templates.len()];
    let replace_longest_word = |t: &str| {
        let longest = t.split(|c: char| !c.is_ascii_alphabetic()).max_by_key(|w| w.len()).unwrap_or("");
        if longest.is_empty() {
            format!("{t} word{k}")
        } else {
            t.replacen(longest, &format!("{longest}{k}x"), 1)
        }
    };
    match k % 4 {
        0 => PatternSpec::regex(template_regex(&replace_longest_word(t))),
        1 => PatternSpec::regex(format!("svc{k}: {}", template_regex(t))),
        2 => PatternSpec::regex(format!("{} \\(attempt {k}\\)", template_regex(t))),
        _ => PatternSpec::regex(template_regex(&replace_longest_word(t))).case_insensitive(true),
    }
}

/// Regexes with no usable literal: they land in the fallback set.
const LITERAL_FREE: [&str; 5] = [
    r"\d+\.\d+\.\d+\.\d+:\d{5}",
    r"[0-9a-f]{12,}",
    r"^\d{6} \d{6} \d+ ",
    r"(?i)[a-z]+_[a-z]+\(\w+:\w+\)",
    r"\w+@\w+\.\w+",
];

fn pattern_set(corpus: &Corpus, n: usize, literal_free: bool) -> Vec<PatternSpec> {
    let mut specs: Vec<PatternSpec> =
        corpus.templates.iter().take(n).map(|t| PatternSpec::regex(template_regex(t))).collect();
    let mut k = 0;
    while specs.len() < n {
        specs.push(synthetic(&corpus.templates, k));
        k += 1;
    }
    if literal_free {
        // Replace evenly spaced patterns, keeping the count at `n`.
        let step = n / LITERAL_FREE.len();
        for (i, p) in LITERAL_FREE.iter().enumerate() {
            specs[i * step + step / 2] = PatternSpec::regex(*p);
        }
    }
    specs
}

fn reference_regex(spec: &PatternSpec) -> String {
    match &spec.pattern {
        healbot_core::logmatch::LogPattern::Regex(p) if spec.case_insensitive => {
            format!("(?i:{p})")
        }
        healbot_core::logmatch::LogPattern::Regex(p) => p.clone(),
        _ => unreachable!("the bench only uses regex patterns"),
    }
}

fn build(specs: &[PatternSpec]) -> LogMatcher {
    let mut b = LogMatcherBuilder::new();
    for s in specs {
        b.add(s.clone());
    }
    b.build().expect("bench patterns compile")
}

fn bench(c: &mut Criterion) {
    let corpus = load();
    let bytes: usize = corpus.lines.iter().map(String::len).sum();
    eprintln!(
        "logmatch bench: {} lines, {} bytes, {:.1} bytes/line, {} templates, corpus: {}",
        corpus.lines.len(),
        bytes,
        bytes as f64 / corpus.lines.len() as f64,
        corpus.templates.len(),
        if corpus.real { "Loghub 2k (HDFS, OpenSSH, Zookeeper)" } else { "generated" }
    );
    // The slow peers run on a slice of the lines to keep the run short;
    // throughput is per byte either way.
    let slow_lines = &corpus.lines[..corpus.lines.len().min(300)];
    let slow_bytes: usize = slow_lines.iter().map(String::len).sum();

    for literal_free in [false, true] {
        let kind = if literal_free { "mixed" } else { "literals" };
        let mut group = c.benchmark_group(format!("logmatch/{kind}"));
        group.sample_size(10);
        for n in [10usize, 100, 1000] {
            let specs = pattern_set(&corpus, n, literal_free);
            let matcher = build(&specs);
            let st = matcher.stats();
            let mut scratch = matcher.scratch();
            let mut out = Vec::new();
            let mut total_hits = 0usize;
            let mut lines_hit = 0usize;
            for l in &corpus.lines {
                matcher.matches(l, &mut scratch, &mut out);
                total_hits += out.len();
                lines_hit += usize::from(!out.is_empty());
            }
            eprintln!(
                "{kind} n={n}: with_literal={} fallback={} unconfirmed={} literals={} regexes={} heap={}KiB; \
                 {total_hits} matches, {lines_hit}/{} lines matched",
                st.with_literal,
                st.fallback,
                st.unconfirmed,
                st.literals,
                st.regexes,
                st.heap_bytes / 1024,
                corpus.lines.len()
            );

            group.throughput(Throughput::Bytes(bytes as u64));
            group.bench_function(BenchmarkId::new("healbot", n), |b| {
                b.iter(|| {
                    let mut hits = 0usize;
                    for l in &corpus.lines {
                        matcher.for_each_match(black_box(l), &mut scratch, |_| hits += 1);
                    }
                    hits
                })
            });

            let regexes: Vec<regex::Regex> =
                specs.iter().map(|s| regex::Regex::new(&reference_regex(s)).unwrap()).collect();
            let set = regex::RegexSet::new(specs.iter().map(reference_regex)).unwrap();
            // Cross-check: all three agree on every line.
            for l in &corpus.lines {
                matcher.matches(l, &mut scratch, &mut out);
                let got: Vec<usize> = out.iter().map(|p| p.as_usize()).collect();
                let want: Vec<usize> = (0..regexes.len()).filter(|&i| regexes[i].is_match(l)).collect();
                assert_eq!(got, want, "line {l:?}");
            }
            for l in slow_lines {
                let want: Vec<usize> = (0..regexes.len()).filter(|&i| regexes[i].is_match(l)).collect();
                assert_eq!(set.matches(l).into_iter().collect::<Vec<_>>(), want);
            }

            let (peer_lines, peer_bytes) = if n >= 100 { (slow_lines, slow_bytes) } else { (&corpus.lines[..], bytes) };
            group.throughput(Throughput::Bytes(peer_bytes as u64));
            group.bench_function(BenchmarkId::new("regex_loop", n), |b| {
                b.iter(|| {
                    let mut hits = 0usize;
                    for l in peer_lines {
                        for re in &regexes {
                            hits += usize::from(re.is_match(black_box(l)));
                        }
                    }
                    hits
                })
            });
            group.bench_function(BenchmarkId::new("regexset", n), |b| {
                b.iter(|| {
                    let mut hits = 0usize;
                    for l in peer_lines {
                        hits += set.matches(black_box(l)).iter().count();
                    }
                    hits
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
