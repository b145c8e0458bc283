//! Log matching throughput: `healbot_core::logmatch` against a loop of
//! `regex::Regex::is_match`, against `regex::RegexSet` (default settings)
//! and, with `--features vectorscan`, against Vectorscan (the system's libhs,
//! one block-mode database, `HS_FLAG_SINGLEMATCH`, one scan per line), for
//! 10, 100 and 1,000 patterns, with literals only and with a few
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
//! Before timing, every engine's set of matching patterns is checked against
//! the regex loop's on every line. After the criterion groups, a same-run
//! summary prints medians in MB/s and lines/s for every engine on the same
//! lines, with ratios to healbot; `healbot_text` is healbot's whole-text
//! call (`for_each_match_by_line`) on the lines joined by newlines.
//!
//! Run: `cargo bench -p healbot-benches --bench logmatch -- --warm-up-time 1 --measurement-time 3`
//! With the Vectorscan peer (needs libhs and pkg-config; Debian:
//! `apt-get install libvectorscan-dev`):
//! `cargo bench -p healbot-benches --features vectorscan --bench logmatch -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use healbot_benches::{args, loghub};
use healbot_core::logmatch::{LogMatcher, LogMatcherBuilder, PatternSpec};

const SYSTEMS: [&str; 3] = ["HDFS", "OpenSSH", "Zookeeper"];

/// The corpus directory, or where it would be beside the workspace root
/// (`CARGO_MANIFEST_DIR/../../shared/...`) when there is none: the reads
/// then fail and the bench falls back to generated lines.
fn corpus_dir() -> PathBuf {
    loghub::corpus_dir()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/loghub-2k"))
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
        per_system.push(tpl.lines().skip(1).filter_map(|l| loghub::csv_fields(l).get(1).cloned()).collect());
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

/// A pattern as Vectorscan takes it: the same regex text, with
/// case-insensitivity as `HS_FLAG_CASELESS` rather than a `(?i:…)` group.
#[cfg(feature = "vectorscan")]
fn vectorscan_pattern(spec: &PatternSpec) -> (String, bool) {
    match &spec.pattern {
        healbot_core::logmatch::LogPattern::Regex(p) => (p.clone(), spec.case_insensitive),
        _ => unreachable!("the bench only uses regex patterns"),
    }
}

/// The Vectorscan peer (`--features vectorscan`): a minimal safe wrapper over
/// the block-mode C API of the system's libhs (Debian `libvectorscan-dev`),
/// through the raw `hyperscan-sys` bindings.
#[cfg(feature = "vectorscan")]
mod vectorscan {
    use std::ffi::{c_int, c_uint, c_ulonglong, c_void, CStr, CString};
    use std::ptr;

    use hyperscan_sys as hs;

    /// Report each pattern at most once per scan.
    pub const SINGLEMATCH: c_uint = hs::HS_FLAG_SINGLEMATCH;
    /// `^` and `$` also match at line breaks inside the scanned text.
    pub const MULTILINE: c_uint = hs::HS_FLAG_MULTILINE;

    /// A block-mode database; each pattern's id is its index in the input.
    #[derive(Debug)]
    pub struct Database {
        db: *mut hs::hs_database_t,
    }

    /// Per-thread scan scratch for one [`Database`].
    #[derive(Debug)]
    pub struct Scratch {
        scratch: *mut hs::hs_scratch_t,
    }

    /// The library's version string.
    pub fn version() -> String {
        // SAFETY: hs_version returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(hs::hs_version()) }.to_string_lossy().trim().to_owned()
    }

    impl Database {
        /// Compiles `(pattern, caseless)` pairs once in block mode, each
        /// with `flags` (plus `HS_FLAG_CASELESS` where asked). A pattern
        /// Vectorscan rejects is left out (the database is compiled again
        /// without it) and returned with the compiler's message.
        pub fn compile(patterns: &[(String, bool)], flags: c_uint) -> (Database, Vec<(usize, String)>) {
            let mut keep: Vec<usize> = (0..patterns.len()).collect();
            let mut rejected = Vec::new();
            loop {
                let exprs: Vec<CString> =
                    keep.iter().map(|&i| CString::new(patterns[i].0.as_str()).expect("no NUL in patterns")).collect();
                let ptrs: Vec<*const std::ffi::c_char> = exprs.iter().map(|e| e.as_ptr()).collect();
                let flags: Vec<c_uint> =
                    keep.iter().map(|&i| flags | if patterns[i].1 { hs::HS_FLAG_CASELESS } else { 0 }).collect();
                let ids: Vec<c_uint> = keep.iter().map(|&i| i as c_uint).collect();
                let mut db = ptr::null_mut();
                let mut err = ptr::null_mut();
                // SAFETY: the three arrays have `keep.len()` elements and
                // outlive the call; `db` and `err` are out-pointers.
                let rc = unsafe {
                    hs::hs_compile_multi(
                        ptrs.as_ptr(),
                        flags.as_ptr(),
                        ids.as_ptr(),
                        keep.len() as c_uint,
                        hs::HS_MODE_BLOCK,
                        ptr::null(),
                        &mut db,
                        &mut err,
                    )
                };
                if rc == hs::HS_SUCCESS as c_int {
                    return (Database { db }, rejected);
                }
                // SAFETY: on failure `err` points to a compile error that we
                // read once and free.
                let (message, expr) = unsafe {
                    let e = &*err;
                    let m = CStr::from_ptr(e.message).to_string_lossy().into_owned();
                    let x = e.expression;
                    hs::hs_free_compile_error(err);
                    (m, x)
                };
                match usize::try_from(expr) {
                    Ok(x) if x < keep.len() => rejected.push((keep.remove(x), message)),
                    _ => panic!("vectorscan compile failed: {message}"),
                }
            }
        }

        /// A scratch for this database.
        pub fn scratch(&self) -> Scratch {
            let mut scratch = ptr::null_mut();
            // SAFETY: `self.db` is a valid database; `scratch` is an out-pointer.
            let rc = unsafe { hs::hs_alloc_scratch(self.db, &mut scratch) };
            assert_eq!(rc, hs::HS_SUCCESS as c_int, "hs_alloc_scratch");
            Scratch { scratch }
        }

        /// The compiled database's size in bytes.
        pub fn size(&self) -> usize {
            let mut n = 0;
            // SAFETY: `self.db` is a valid database.
            unsafe { hs::hs_database_size(self.db, &mut n) };
            n
        }

        /// Calls `f(id, end)` for each match in `text`, in the order of
        /// their ends (with `HS_FLAG_SINGLEMATCH`, once per pattern).
        pub fn scan<F: FnMut(u32, u64)>(&self, text: &str, scratch: &mut Scratch, f: &mut F) {
            unsafe extern "C" fn on_match<F: FnMut(u32, u64)>(
                id: c_uint,
                _from: c_ulonglong,
                to: c_ulonglong,
                _flags: c_uint,
                ctx: *mut c_void,
            ) -> c_int {
                // SAFETY: `ctx` is the `&mut F` passed to hs_scan below.
                let f = unsafe { &mut *ctx.cast::<F>() };
                f(id, to);
                0
            }
            // SAFETY: the database and scratch are valid and belong together
            // (the scratch was allocated for this database); `text` outlives
            // the call; `ctx` is `f`, used only during the call.
            let rc = unsafe {
                hs::hs_scan(
                    self.db,
                    text.as_ptr().cast(),
                    c_uint::try_from(text.len()).expect("text under 4 GiB"),
                    0,
                    scratch.scratch,
                    Some(on_match::<F>),
                    ptr::from_mut(f).cast(),
                )
            };
            debug_assert_eq!(rc, hs::HS_SUCCESS as c_int);
        }
    }

    impl Drop for Database {
        fn drop(&mut self) {
            // SAFETY: allocated by hs_compile_multi, freed once.
            unsafe { hs::hs_free_database(self.db) };
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            // SAFETY: allocated by hs_alloc_scratch, freed once.
            unsafe { hs::hs_free_scratch(self.scratch) };
        }
    }
}

/// Every `len / target`-th line: a sample spread over all three systems
/// (the corpus is the three files one after the other), for the slow peers.
fn spread_sample(lines: &[String], target: usize) -> Vec<String> {
    let step = lines.len().div_ceil(target).max(1);
    lines.iter().step_by(step).cloned().collect()
}

/// Lines joined by `\n`, for one whole-buffer Vectorscan scan.
#[cfg(feature = "vectorscan")]
struct LineBuffer {
    text: String,
    /// The offset of each line's first byte in `text`.
    starts: Vec<u64>,
}

#[cfg(feature = "vectorscan")]
impl LineBuffer {
    fn new(lines: &[String]) -> LineBuffer {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(lines.len());
        for l in lines {
            starts.push(text.len() as u64);
            text.push_str(l);
            text.push('\n');
        }
        LineBuffer { text, starts }
    }

    /// The line of a match that ends (exclusive) at `to` (matches are
    /// never empty, so `to >= 1`).
    fn line_of(&self, to: u64) -> usize {
        self.starts.partition_point(|&s| s < to) - 1
    }
}

/// One row of the same-run summary.
struct Row {
    kind: &'static str,
    n: usize,
    set: String,
    engine: &'static str,
    lines: usize,
    bytes: usize,
    /// Median thread CPU time of one pass.
    ns: f64,
    /// Median wall time of one pass.
    wall_ns: f64,
}

/// The CPU time this thread has used, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID`): time the scheduler gave to other processes
/// on a shared machine is not in it.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_ns() -> Option<u64> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer of the C layout glibc and musl use
    // on 64-bit Linux.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

/// The median time of one call of `pass` in nanoseconds, as `(thread CPU
/// time, wall time)` (the CPU time is the wall time where the platform has
/// no thread clock): batches of at least ~20 ms, 5 to 15 of them within
/// ~2 s (one call in test mode), each statistic's median taken separately.
fn median_pass_ns<R>(mut pass: impl FnMut() -> R) -> (f64, f64) {
    let t = Instant::now();
    black_box(pass());
    let once = t.elapsed().as_secs_f64().max(1e-9);
    let (batch, rounds) = if args::quick() {
        (1, 1)
    } else {
        let batch = ((0.02 / once).ceil() as usize).max(1);
        (batch, ((2.0 / (once * batch as f64)) as usize).clamp(5, 15))
    };
    let mut cpu = Vec::with_capacity(rounds);
    let mut wall = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let c = thread_cpu_ns();
        let t = Instant::now();
        for _ in 0..batch {
            black_box(pass());
        }
        let w = t.elapsed().as_nanos() as f64 / batch as f64;
        wall.push(w);
        cpu.push(match (c, thread_cpu_ns()) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 / batch as f64,
            _ => w,
        });
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut cpu), median(&mut wall))
}

fn print_summary(rows: &[Row]) {
    let rounds = if args::quick() { "1 pass (test mode)" } else { "5-15 batches of >= 20 ms" };
    let clock = if thread_cpu_ns().is_some() { "thread CPU time" } else { "wall time" };
    eprintln!();
    eprintln!(
        "logmatch same-run summary: median of {rounds}, one thread, one scan per line (healbot_text, vs_buffer: one scan \
         of the lines joined by newlines); MB/s and lines/s from the {clock}, wall MB/s from the wall clock; \
         MB = 10^6 bytes; ratio = throughput / healbot's on the same lines"
    );
    eprintln!(
        "{:<9} {:>5}  {:<12} {:<11} {:>10} {:>13} {:>11} {:>10}",
        "kind", "n", "lines", "engine", "MB/s", "lines/s", "vs healbot", "wall MB/s"
    );
    for r in rows {
        let base = rows
            .iter()
            .find(|b| b.kind == r.kind && b.n == r.n && b.set == r.set && b.engine == "healbot")
            .map_or(r.ns, |b| b.ns);
        let secs = r.ns / 1e9;
        eprintln!(
            "{:<9} {:>5}  {:<12} {:<11} {:>10.2} {:>13.0} {:>10.4}x {:>10.2}",
            r.kind,
            r.n,
            r.set,
            r.engine,
            r.bytes as f64 / 1e6 / secs,
            r.lines as f64 / secs,
            base / r.ns,
            r.bytes as f64 * 1e3 / r.wall_ns
        );
    }
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
    #[cfg(feature = "vectorscan")]
    eprintln!("logmatch bench: vectorscan peer: libhs {}", vectorscan::version());
    #[cfg(not(feature = "vectorscan"))]
    eprintln!("logmatch bench: no vectorscan peer (build with --features vectorscan; needs libhs)");
    // The slow peers run on a sample of the lines (every 20th, so all
    // three systems are in it) to keep the run short; throughput is per
    // byte and per line either way, and the same-run summary also times
    // the fast engines on that sample.
    let slow_lines = spread_sample(&corpus.lines, 300);
    let slow_bytes: usize = slow_lines.iter().map(String::len).sum();
    let all_label = format!("all {}", corpus.lines.len());
    let sample_label = format!("sample {}", slow_lines.len());
    let mut rows: Vec<Row> = Vec::new();

    for literal_free in [false, true] {
        let kind = if literal_free { "mixed" } else { "literals" };
        let mut group = c.benchmark_group(format!("logmatch/{kind}"));
        group.sample_size(10);
        for n in [10usize, 100, 1000] {
            let specs = pattern_set(&corpus, n, literal_free);
            let t = Instant::now();
            let matcher = build(&specs);
            let healbot_build = t.elapsed();
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

            let regexes: Vec<regex::Regex> =
                specs.iter().map(|s| regex::Regex::new(&reference_regex(s)).unwrap()).collect();
            let t = Instant::now();
            let set = regex::RegexSet::new(specs.iter().map(reference_regex)).unwrap();
            let set_build = t.elapsed();
            #[cfg(feature = "vectorscan")]
            let (vs_db, vs_rejected, vs_build) = {
                let t = Instant::now();
                let pats: Vec<(String, bool)> = specs.iter().map(vectorscan_pattern).collect();
                let (db, rejected) = vectorscan::Database::compile(&pats, vectorscan::SINGLEMATCH);
                (db, rejected, t.elapsed())
            };
            // The whole-buffer variant: one scan of the lines joined by
            // `\n`, `^` at line starts, every match event reported (no
            // SINGLEMATCH: it would be per buffer) and deduplicated per line.
            #[cfg(feature = "vectorscan")]
            let (vs_buf_db, vs_buf_rejected) = {
                let pats: Vec<(String, bool)> = specs.iter().map(vectorscan_pattern).collect();
                vectorscan::Database::compile(&pats, vectorscan::MULTILINE)
            };
            #[cfg(feature = "vectorscan")]
            let mut vs_buf_scratch = vs_buf_db.scratch();
            #[cfg(feature = "vectorscan")]
            let mut vs_seen = vec![0u32; specs.len()];
            #[cfg(feature = "vectorscan")]
            let mut vs_scratch = vs_db.scratch();
            #[cfg(feature = "vectorscan")]
            {
                eprintln!(
                    "{kind} n={n}: build healbot {:.1} ms, RegexSet {:.1} ms, vectorscan {:.1} ms \
                     (database {} KiB); vectorscan rejected {} pattern(s)",
                    healbot_build.as_secs_f64() * 1e3,
                    set_build.as_secs_f64() * 1e3,
                    vs_build.as_secs_f64() * 1e3,
                    vs_db.size() / 1024,
                    vs_rejected.len()
                );
                for (i, msg) in &vs_rejected {
                    eprintln!("  vectorscan rejected #{i} {:?}: {msg}", reference_regex(&specs[*i]));
                }
            }
            #[cfg(not(feature = "vectorscan"))]
            eprintln!(
                "{kind} n={n}: build healbot {:.1} ms, RegexSet {:.1} ms",
                healbot_build.as_secs_f64() * 1e3,
                set_build.as_secs_f64() * 1e3
            );

            // Cross-check: every engine agrees with the regex loop on every
            // line (RegexSet on the sample; Vectorscan leaving out only the
            // patterns it rejected).
            #[cfg(feature = "vectorscan")]
            let all_buf = LineBuffer::new(&corpus.lines);
            #[cfg(feature = "vectorscan")]
            let buf_lines = {
                let mut per_line: Vec<Vec<usize>> = vec![Vec::new(); corpus.lines.len()];
                vs_buf_db.scan(&all_buf.text, &mut vs_buf_scratch, &mut |id, to| {
                    let ids = &mut per_line[all_buf.line_of(to)];
                    if !ids.contains(&(id as usize)) {
                        ids.push(id as usize);
                    }
                });
                per_line
            };
            let mut wants: Vec<Vec<usize>> = Vec::with_capacity(corpus.lines.len());
            for l in &corpus.lines {
                matcher.matches(l, &mut scratch, &mut out);
                let got: Vec<usize> = out.iter().map(|p| p.as_usize()).collect();
                let want: Vec<usize> = (0..regexes.len()).filter(|&i| regexes[i].is_match(l)).collect();
                assert_eq!(got, want, "line {l:?}");
                wants.push(want);
            }
            #[cfg(feature = "vectorscan")]
            let mut vs_total = 0usize;
            #[cfg(feature = "vectorscan")]
            for ((l, want), from_buf) in corpus.lines.iter().zip(&wants).zip(&buf_lines) {
                let without = |rejected: &[(usize, String)]| -> Vec<usize> {
                    want.iter().copied().filter(|i| !rejected.iter().any(|(r, _)| r == i)).collect()
                };
                let mut vs: Vec<usize> = Vec::new();
                vs_db.scan(l, &mut vs_scratch, &mut |id, _| vs.push(id as usize));
                vs.sort_unstable();
                assert_eq!(vs, without(&vs_rejected), "vectorscan, line {l:?}");
                vs_total += vs.len();
                let mut vs = from_buf.clone();
                vs.sort_unstable();
                assert_eq!(vs, without(&vs_buf_rejected), "vectorscan whole buffer, line {l:?}");
            }
            for l in &slow_lines {
                let want: Vec<usize> = (0..regexes.len()).filter(|&i| regexes[i].is_match(l)).collect();
                assert_eq!(set.matches(l).into_iter().collect::<Vec<_>>(), want);
            }
            drop(wants);

            let healbot_pass = |lines: &[String], scratch: &mut _| {
                let mut hits = 0usize;
                for l in lines {
                    matcher.for_each_match(black_box(l), scratch, |_| hits += 1);
                }
                hits
            };
            #[cfg(feature = "vectorscan")]
            let vectorscan_pass = |lines: &[String], scratch: &mut vectorscan::Scratch| {
                let mut hits = 0usize;
                for l in lines {
                    vs_db.scan(black_box(l), scratch, &mut |_, _| hits += 1);
                }
                hits
            };
            // `seen[id]` is 1 + the last line `id` was counted on.
            #[cfg(feature = "vectorscan")]
            let vectorscan_buf_pass = |buf: &LineBuffer, scratch: &mut vectorscan::Scratch, seen: &mut [u32]| {
                seen.fill(0);
                let mut hits = 0usize;
                vs_buf_db.scan(black_box(&buf.text), scratch, &mut |id, to| {
                    let line = buf.line_of(to) as u32 + 1;
                    let last = &mut seen[id as usize];
                    if *last != line {
                        *last = line;
                        hits += 1;
                    }
                });
                hits
            };
            let regex_loop_pass = |lines: &[String]| {
                let mut hits = 0usize;
                for l in lines {
                    for re in &regexes {
                        hits += usize::from(re.is_match(black_box(l)));
                    }
                }
                hits
            };
            let regexset_pass = |lines: &[String]| {
                let mut hits = 0usize;
                for l in lines {
                    hits += set.matches(black_box(l)).iter().count();
                }
                hits
            };

            // The timed passes count what the cross-check saw (the
            // whole-buffer count relies on matches arriving in end order).
            #[cfg(feature = "vectorscan")]
            {
                assert_eq!(vectorscan_pass(&corpus.lines, &mut vs_scratch), vs_total);
                let counted = vectorscan_buf_pass(&all_buf, &mut vs_buf_scratch, &mut vs_seen);
                assert_eq!(counted, buf_lines.iter().map(Vec::len).sum::<usize>());
            }
            group.throughput(Throughput::Bytes(bytes as u64));
            group.bench_function(BenchmarkId::new("healbot", n), |b| {
                b.iter(|| healbot_pass(&corpus.lines, &mut scratch))
            });
            #[cfg(feature = "vectorscan")]
            group.bench_function(BenchmarkId::new("vectorscan", n), |b| {
                b.iter(|| vectorscan_pass(&corpus.lines, &mut vs_scratch))
            });

            let (peer_lines, peer_bytes) =
                if n >= 100 { (&slow_lines[..], slow_bytes) } else { (&corpus.lines[..], bytes) };
            group.throughput(Throughput::Bytes(peer_bytes as u64));
            group.bench_function(BenchmarkId::new("regex_loop", n), |b| b.iter(|| regex_loop_pass(peer_lines)));
            group.bench_function(BenchmarkId::new("regexset", n), |b| b.iter(|| regexset_pass(peer_lines)));

            if args::profiling() {
                continue;
            }
            // Same-run summary: every engine on the peers' lines; the fast
            // ones also on all lines when the peers run on the sample.
            let mut row = |set: &str, engine: &'static str, lines: &[String], (ns, wall_ns): (f64, f64)| {
                rows.push(Row {
                    kind,
                    n,
                    set: set.to_owned(),
                    engine,
                    lines: lines.len(),
                    bytes: lines.iter().map(String::len).sum(),
                    ns,
                    wall_ns,
                });
            };
            let mut sets: Vec<(&str, &[String])> = vec![(&all_label, &corpus.lines[..])];
            if n >= 100 {
                sets.push((&sample_label, &slow_lines[..]));
            }
            for (label, lines) in sets {
                row(label, "healbot", lines, median_pass_ns(|| healbot_pass(lines, &mut scratch)));
                // The same lines as one text, through the whole-text scan.
                let text: String = lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect();
                let text_pass = |scratch: &mut _| {
                    let mut hits = 0usize;
                    matcher.for_each_match_by_line(black_box(&text), scratch, |_, _| hits += 1);
                    hits
                };
                assert_eq!(text_pass(&mut scratch), healbot_pass(lines, &mut scratch), "whole text, {label}");
                row(label, "healbot_text", lines, median_pass_ns(|| text_pass(&mut scratch)));
                #[cfg(feature = "vectorscan")]
                {
                    row(label, "vectorscan", lines, median_pass_ns(|| vectorscan_pass(lines, &mut vs_scratch)));
                    let buf = LineBuffer::new(lines);
                    let ns = median_pass_ns(|| vectorscan_buf_pass(&buf, &mut vs_buf_scratch, &mut vs_seen));
                    row(label, "vs_buffer", lines, ns);
                }
                if lines.len() == peer_lines.len() {
                    row(label, "regex_loop", lines, median_pass_ns(|| regex_loop_pass(lines)));
                    row(label, "regexset", lines, median_pass_ns(|| regexset_pass(lines)));
                }
            }
        }
        group.finish();
    }
    if !rows.is_empty() {
        print_summary(&rows);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
