//! Loghub attribution evaluation for `healbot_core::logmatch`.
//!
//! For each Loghub 2k system (HDFS, OpenSSH, Zookeeper), read *in place*
//! from `shared/corpora/loghub-2k` beside the workspace (never copied into
//! the project):
//!
//! 1. take each raw line's content with the Loghub log-format regex (fields
//!    lazy, spaces `\s+`, the line trimmed first, as Loghub does) and check it
//!    equals the `Content` column of `*_structured.csv`;
//! 2. compile every template of `*_templates.csv` into a pattern (`<*>`, a
//!    variable field, becomes `.*?`; the rest is escaped; anchored `^…$`);
//! 3. match every content against all of its system's templates in one pass
//!    and attribute it to the most specific match (most literal characters,
//!    ties to the first template), then compare with the ground-truth
//!    `EventId`;
//! 4. repeat with two other translations (`\S+` for `<*>`; unanchored) to
//!    show why `.*?` anchored is the one kept;
//! 5. time the attribution over the contents replicated to at least
//!    `--mb` MB (default 100), single thread, next to Python's `re` doing
//!    the same attribution (`benches/python/loghub_re.py`, run from here).
//!
//! Run: `cargo run --release -p healbot-benches --example loghub -- [--mb 100] [--no-python]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use healbot_benches::loghub::{corpus_dir, csv_fields};
use healbot_core::logmatch::{LogMatcher, LogMatcherBuilder, PatternSpec};

/// Each system and its Loghub log format.
const SYSTEMS: [(&str, &str); 3] = [
    ("HDFS", "<Date> <Time> <Pid> <Level> <Component>: <Content>"),
    ("OpenSSH", r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>"),
    ("Zookeeper", r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>"),
];

/// Rows of a CSV file as maps from header to value.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap_or(""));
    lines.filter(|l| !l.is_empty()).map(|l| header.iter().cloned().zip(csv_fields(l)).collect()).collect()
}

/// Loghub's log-format to regex (`generate_logformat_regex` in its parsers).
fn format_regex(format: &str) -> regex::Regex {
    let splitter = regex::Regex::new(r"<[^<>]+>").unwrap();
    let spaces = regex::Regex::new(" +").unwrap();
    let mut out = String::from("^");
    let mut last = 0;
    for m in splitter.find_iter(format) {
        out.push_str(&spaces.replace_all(&format[last..m.start()], r"\s+"));
        out.push_str(&format!("(?P<{}>.*?)", &format[m.start() + 1..m.end() - 1]));
        last = m.end();
    }
    out.push_str(&spaces.replace_all(&format[last..], r"\s+"));
    out.push('$');
    regex::Regex::new(&out).unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Translation {
    /// `^…$`, `<*>` → `.*?` (the one kept).
    AnchoredLazy,
    /// `^…$`, `<*>` → `\S+`.
    AnchoredNonSpace,
    /// no anchors, `<*>` → `.*?` (how a signature would usually be written).
    UnanchoredLazy,
}

impl Translation {
    fn name(self) -> &'static str {
        match self {
            Translation::AnchoredLazy => "anchored, <*> = .*?",
            Translation::AnchoredNonSpace => r"anchored, <*> = \S+",
            Translation::UnanchoredLazy => "unanchored, <*> = .*?",
        }
    }

    fn regex(self, template: &str) -> String {
        let var = if self == Translation::AnchoredNonSpace { r"\S+" } else { ".*?" };
        let body = template.split("<*>").map(regex::escape).collect::<Vec<_>>().join(var);
        if self == Translation::UnanchoredLazy {
            body
        } else {
            format!("^{body}$")
        }
    }
}

struct System {
    name: &'static str,
    /// (EventId, template)
    templates: Vec<(String, String)>,
    contents: Vec<String>,
    truth: Vec<String>,
    content_mismatches: usize,
}

fn load(dir: &Path, name: &'static str, format: &str) -> System {
    let templates: Vec<(String, String)> = read_csv(&dir.join(format!("{name}_2k.log_templates.csv")))
        .into_iter()
        .map(|r| (r["EventId"].clone(), r["EventTemplate"].clone()))
        .collect();
    let structured = read_csv(&dir.join(format!("{name}_2k.log_structured.csv")));
    let raw = std::fs::read_to_string(dir.join(format!("{name}_2k.log"))).unwrap();
    let header = format_regex(format);
    let mut contents = Vec::new();
    let mut content_mismatches = 0;
    for (line, row) in raw.lines().filter(|l| !l.trim().is_empty()).zip(&structured) {
        let content = header.captures(line.trim()).and_then(|c| c.name("Content")).map_or("", |m| m.as_str());
        if content != row["Content"] {
            content_mismatches += 1;
        }
        contents.push(content.to_owned());
    }
    assert_eq!(contents.len(), structured.len(), "{name}: line count differs from the structured file");
    System {
        name,
        templates,
        contents,
        truth: structured.iter().map(|r| r["EventId"].clone()).collect(),
        content_mismatches,
    }
}

/// A compiled system: the matcher and each template's literal length.
struct Attributor {
    matcher: LogMatcher,
    literal_len: Vec<usize>,
}

impl Attributor {
    fn new(sys: &System, t: Translation) -> Attributor {
        let mut b = LogMatcherBuilder::new();
        for (_, tpl) in &sys.templates {
            b.add(PatternSpec::regex(t.regex(tpl)));
        }
        Attributor {
            matcher: b.build().unwrap(),
            literal_len: sys.templates.iter().map(|(_, t)| t.replace("<*>", "").len()).collect(),
        }
    }

    /// The most specific matching template (ties to the lowest id), and how
    /// many matched.
    fn attribute(&self, content: &str, scratch: &mut healbot_core::logmatch::Scratch) -> (Option<usize>, usize) {
        let mut best: Option<usize> = None;
        let mut n = 0;
        self.matcher.for_each_match(content, scratch, |p| {
            n += 1;
            let i = p.as_usize();
            if best.is_none_or(|b| self.literal_len[i] > self.literal_len[b]) {
                best = Some(i);
            }
        });
        (best, n)
    }
}

struct Outcome {
    correct: usize,
    ambiguous: usize,
    decided_by_specificity: usize,
    ties: usize,
    /// (truth, predicted or "none") → (count, an example content)
    disagreements: BTreeMap<(String, String), (usize, String)>,
}

fn evaluate(sys: &System, t: Translation) -> Outcome {
    let a = Attributor::new(sys, t);
    let mut scratch = a.matcher.scratch();
    let mut out =
        Outcome { correct: 0, ambiguous: 0, decided_by_specificity: 0, ties: 0, disagreements: BTreeMap::new() };
    let mut all = Vec::new();
    for (content, truth) in sys.contents.iter().zip(&sys.truth) {
        let (best, n) = a.attribute(content, &mut scratch);
        if n > 1 {
            out.ambiguous += 1;
            a.matcher.matches(content, &mut scratch, &mut all);
            let top = best.map_or(0, |b| a.literal_len[b]);
            let at_top = all.iter().filter(|p| a.literal_len[p.as_usize()] == top).count();
            if at_top > 1 {
                out.ties += 1;
            } else {
                out.decided_by_specificity += 1;
            }
        }
        let predicted = best.map_or("none".to_owned(), |b| sys.templates[b].0.clone());
        if &predicted == truth {
            out.correct += 1;
        } else {
            let e =
                out.disagreements.entry((truth.clone(), predicted)).or_insert((0, content.chars().take(160).collect()));
            e.0 += 1;
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: f64 = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0);
    let run_python = !args.iter().any(|a| a == "--no-python");
    let Some(dir) = corpus_dir() else {
        eprintln!("loghub eval: shared/corpora/loghub-2k not found beside the workspace; nothing to evaluate");
        std::process::exit(2);
    };
    println!("corpus: {} (read in place)", dir.display());

    let systems: Vec<System> = SYSTEMS.iter().map(|(n, f)| load(&dir, n, f)).collect();

    println!("\n## Content extraction\n");
    for s in &systems {
        println!(
            "- {}: {} lines, {} templates, content differs from `*_structured.csv` on {} lines",
            s.name,
            s.contents.len(),
            s.templates.len(),
            s.content_mismatches
        );
    }

    for t in [Translation::AnchoredLazy, Translation::UnanchoredLazy, Translation::AnchoredNonSpace] {
        println!("\n## Attribution, {}\n", t.name());
        println!("| system | accuracy | correct | >1 template matched | decided by specificity | ties |");
        println!("|---|---|---|---|---|---|");
        let mut classes = Vec::new();
        for s in &systems {
            let o = evaluate(s, t);
            println!(
                "| {} | {:.2}% | {}/{} | {} | {} | {} |",
                s.name,
                100.0 * o.correct as f64 / s.truth.len() as f64,
                o.correct,
                s.truth.len(),
                o.ambiguous,
                o.decided_by_specificity,
                o.ties
            );
            for ((truth, predicted), (count, example)) in o.disagreements {
                classes.push(format!("- {}: {truth} → {predicted}: {count} lines, e.g. `{example}`", s.name));
            }
        }
        if classes.is_empty() {
            println!("\nNo disagreements.");
        } else {
            println!("\nDisagreements (truth → attributed):\n");
            for c in classes {
                println!("{c}");
            }
        }
    }

    // Throughput: every system's contents, replicated to >= `mb` MB.
    let base: usize = systems.iter().flat_map(|s| &s.contents).map(String::len).sum();
    let reps = ((mb * 1e6) as usize).div_ceil(base).max(1);
    println!("\n## Throughput (contents replicated {reps}x, single thread; healbot: median of 5 runs)\n");
    println!("| engine | system | MB | lines | seconds | MB/s | lines/s |");
    println!("|---|---|---|---|---|---|---|");
    let (mut tb, mut tl, mut ts) = (0usize, 0usize, 0f64);
    for s in &systems {
        let a = Attributor::new(s, Translation::AnchoredLazy);
        let mut scratch = a.matcher.scratch();
        // Warm the regex caches.
        for c in &s.contents {
            a.attribute(c, &mut scratch);
        }
        let bytes: usize = s.contents.iter().map(String::len).sum::<usize>() * reps;
        let lines = s.contents.len() * reps;
        // The median of five timed runs (the machine may be shared).
        let mut runs = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let mut checksum = 0usize;
            for _ in 0..reps {
                for c in &s.contents {
                    checksum += a.attribute(std::hint::black_box(c), &mut scratch).0.unwrap_or(0);
                }
            }
            runs.push(start.elapsed().as_secs_f64());
            std::hint::black_box(checksum);
        }
        runs.sort_by(f64::total_cmp);
        let secs = runs[runs.len() / 2];
        println!(
            "| healbot logmatch | {} | {:.1} | {} | {:.3} | {:.1} | {:.0} |",
            s.name,
            bytes as f64 / 1e6,
            lines,
            secs,
            bytes as f64 / secs / 1e6,
            lines as f64 / secs
        );
        tb += bytes;
        tl += lines;
        ts += secs;
    }
    println!(
        "| healbot logmatch | all | {:.1} | {} | {:.3} | {:.1} | {:.0} |",
        tb as f64 / 1e6,
        tl,
        ts,
        tb as f64 / ts / 1e6,
        tl as f64 / ts
    );
    let rust_mbps = tb as f64 / ts / 1e6;

    if run_python {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/loghub_re.py");
        match Command::new("python3").arg(&script).arg("--corpus").arg(&dir).arg("--mb").arg(mb.to_string()).output() {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                let field = |line: &str, key: &str| -> Option<String> {
                    line.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
                };
                let mut py_mbps = None;
                let mut accuracies = Vec::new();
                for line in text.lines() {
                    let system = field(line, "system").unwrap_or_else(|| "all".to_owned());
                    let (Some(bytes), Some(lines), Some(secs), Some(mbps), Some(lps)) = (
                        field(line, "bytes"),
                        field(line, "lines"),
                        field(line, "seconds"),
                        field(line, "MBps"),
                        field(line, "linesps"),
                    ) else {
                        continue;
                    };
                    let bytes: f64 = bytes.parse().unwrap_or(0.0);
                    println!("| python re | {system} | {:.1} | {lines} | {secs} | {mbps} | {lps} |", bytes / 1e6);
                    if system == "all" {
                        py_mbps = mbps.parse::<f64>().ok();
                    }
                    if let Some(acc) = field(line, "accuracy") {
                        accuracies.push(format!("{system} {acc}"));
                    }
                }
                if let Some(p) = py_mbps {
                    println!("\nhealbot / python re: {:.0}x", rust_mbps / p);
                }
                println!("python re attribution accuracy (anchored, .*?): {}", accuracies.join(", "));
            }
            Ok(out) => eprintln!("python re run failed: {}", String::from_utf8_lossy(&out.stderr)),
            Err(e) => eprintln!("python3 not runnable ({e}); skipped the Python comparison"),
        }
    }
}
