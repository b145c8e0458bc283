//! The compiled multi-pattern log matcher.
//!
//! Signatures read log lines through patterns: a regex, or Sigma-style
//! `contains` / `startswith` / `endswith` literals, each optionally
//! case-insensitive. A library may hold thousands of them, and every line
//! must be matched against all of them in one pass (design principle 5:
//! compile, then run).
//!
//! ## How it works
//!
//! [`LogMatcherBuilder::build`] parses every pattern and extracts, from its
//! syntax tree, a small set of literals at least one of which occurs in
//! every line the pattern matches (inner literals too, not only prefixes:
//! `.*? Served block blk_.*?` gives `" Served block blk_"`). Literals are
//! deduplicated and compiled into one Aho-Corasick automaton. A search:
//!
//! 1. runs the automaton once over the line (overlapping, so no literal hides
//!    another) and marks the patterns whose literal occurred as candidates;
//! 2. runs the *fallback set* — the few patterns with no usable literal
//!    (`\d+`), compiled together into one multi-pattern regex — when there
//!    are any ([`MatcherStats::fallback`] counts them);
//! 3. confirms each candidate: not at all when the literal *is* the pattern
//!    (`foo|bar`, a case-sensitive `contains`), by a byte comparison for
//!    `startswith` / `endswith`, otherwise with the pattern's own
//!    [`regex_automata::meta::Regex`].
//!
//! Regexes are the `regex` crate family's, so matching is linear in the line.
//! Each pattern's compiled size is limited ([`LogMatcherBuilder::size_limit`]):
//! a hostile pattern such as `\w{1000}{1000}` fails to build with a
//! [`PatternError`] instead of eating memory.
//!
//! ## Sharing across threads
//!
//! A [`LogMatcher`] is immutable, `Send + Sync`, and searched through `&self`;
//! wrap it in an `Arc` to share it. The mutable state a search needs (regex
//! caches, the candidate bitset) lives in a [`Scratch`], one per thread, so
//! the hot path takes no lock. A scratch allocates a regex's cache the first
//! time that regex runs in it; after warm-up a search allocates nothing.
//!
//! # Example
//!
//! ```
//! use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
//!
//! let mut b = LogMatcherBuilder::new();
//! let refused = b.add(PatternSpec::contains(["connection refused"]));
//! let oom = b.add(PatternSpec::regex(r"(?:OOM|out of memory).*killed").case_insensitive(true));
//! let matcher = b.build()?;
//!
//! let mut scratch = matcher.scratch();
//! let mut hits = Vec::new();
//! matcher.matches("kernel: Out Of Memory: process 42 killed", &mut scratch, &mut hits);
//! assert_eq!(hits, vec![oom]);
//! matcher.matches("dial tcp: connection refused", &mut scratch, &mut hits);
//! assert_eq!(hits, vec![refused]);
//! # Ok::<(), healbot_core::logmatch::PatternError>(())
//! ```

mod literal;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind as AcMatchKind};
use regex_automata::meta;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};
use regex_syntax::hir::{Hir, Look};

use literal::{extract, usable, Lit};

/// The default limit on one pattern's compiled size, in bytes.
pub const DEFAULT_SIZE_LIMIT: usize = 1 << 20;
/// The default capacity of one pattern's lazy DFA cache in a [`Scratch`].
pub const DEFAULT_CACHE_CAPACITY: usize = 256 << 10;
/// How deeply a regex may nest groups and repetitions.
const NEST_LIMIT: u32 = 64;

/// What a log pattern matches.
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::LogPattern;
///
/// let p = LogPattern::Contains(vec!["disk".into(), "full".into()]);
/// assert!(matches!(p, LogPattern::Contains(ref all) if all.len() == 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogPattern {
    /// A regular expression (`regex` crate syntax), matched anywhere in the
    /// line unless it anchors itself with `^` / `$`.
    Regex(String),
    /// Every one of these literals occurs somewhere in the line, in any
    /// order. The list must not be empty.
    Contains(Vec<String>),
    /// The line starts with this literal.
    StartsWith(String),
    /// The line ends with this literal. A trailing newline is part of the
    /// line: strip it before matching.
    EndsWith(String),
}

/// A pattern and how to match it.
///
/// Case-insensitive matching follows Unicode simple case folding, as the
/// `regex` crate's `(?i)` does (`k` also matches U+212A KELVIN SIGN).
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogPattern, PatternSpec};
///
/// let spec = PatternSpec::starts_with("panic:").case_insensitive(true);
/// assert_eq!(spec.pattern, LogPattern::StartsWith("panic:".into()));
/// assert!(spec.case_insensitive);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PatternSpec {
    /// What to match.
    pub pattern: LogPattern,
    /// Match letters regardless of case.
    pub case_insensitive: bool,
}

impl PatternSpec {
    /// A case-sensitive regex pattern.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::PatternSpec;
    /// let spec = PatternSpec::regex(r"status=5\d\d");
    /// assert!(!spec.case_insensitive);
    /// ```
    pub fn regex(pattern: impl Into<String>) -> PatternSpec {
        PatternSpec { pattern: LogPattern::Regex(pattern.into()), case_insensitive: false }
    }

    /// A case-sensitive `contains` pattern: every literal must occur.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogPattern, PatternSpec};
    /// let spec = PatternSpec::contains(["timeout", "upstream"]);
    /// assert!(matches!(spec.pattern, LogPattern::Contains(ref v) if v.len() == 2));
    /// ```
    pub fn contains<I, S>(literals: I) -> PatternSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PatternSpec {
            pattern: LogPattern::Contains(literals.into_iter().map(Into::into).collect()),
            case_insensitive: false,
        }
    }

    /// A case-sensitive `startswith` pattern.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogPattern, PatternSpec};
    /// assert_eq!(PatternSpec::starts_with("ERROR").pattern, LogPattern::StartsWith("ERROR".into()));
    /// ```
    pub fn starts_with(literal: impl Into<String>) -> PatternSpec {
        PatternSpec { pattern: LogPattern::StartsWith(literal.into()), case_insensitive: false }
    }

    /// A case-sensitive `endswith` pattern.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogPattern, PatternSpec};
    /// assert_eq!(PatternSpec::ends_with("failed").pattern, LogPattern::EndsWith("failed".into()));
    /// ```
    pub fn ends_with(literal: impl Into<String>) -> PatternSpec {
        PatternSpec { pattern: LogPattern::EndsWith(literal.into()), case_insensitive: false }
    }

    /// This spec, matching letters regardless of case when `yes`.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::PatternSpec;
    /// assert!(PatternSpec::contains(["error"]).case_insensitive(true).case_insensitive);
    /// ```
    pub fn case_insensitive(mut self, yes: bool) -> PatternSpec {
        self.case_insensitive = yes;
        self
    }
}

/// The identifier of a pattern: its position in the order patterns were
/// added to the builder.
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
/// let mut b = LogMatcherBuilder::new();
/// assert_eq!(b.add(PatternSpec::contains(["a"])).as_usize(), 0);
/// assert_eq!(b.add(PatternSpec::contains(["b"])).as_usize(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatternId(u32);

impl PatternId {
    /// The identifier as an index.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// let id = b.add(PatternSpec::regex("x"));
    /// assert_eq!(id.as_usize(), 0);
    /// ```
    pub fn as_usize(self) -> usize {
        self.0 as usize
    }

    /// The identifier as a `u32` (what crosses the C and Python bindings).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex("x"));
    /// assert_eq!(b.add(PatternSpec::regex("y")).as_u32(), 1);
    /// ```
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatternErrorKind {
    Syntax,
    SizeLimit,
    Invalid,
}

/// Why a pattern did not compile.
///
/// It names the pattern by its index in the order added, says what is wrong,
/// and for a regex syntax error gives where inside the pattern, so a loader
/// can turn it into a [`crate::Diagnostic`] pointing into the document.
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
///
/// let mut b = LogMatcherBuilder::new();
/// b.add(PatternSpec::regex("fine"));
/// b.add(PatternSpec::regex("broken (group"));
/// let err = b.build().unwrap_err();
/// assert_eq!(err.index(), 1);
/// assert_eq!(err.offset_in_pattern(), Some(7));
/// assert!(err.message().contains("unclosed group"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    index: usize,
    kind: PatternErrorKind,
    message: String,
    offset: Option<usize>,
    column: Option<usize>,
}

impl PatternError {
    fn new(index: usize, kind: PatternErrorKind, message: impl Into<String>) -> PatternError {
        PatternError { index, kind, message: message.into(), offset: None, column: None }
    }

    /// The index of the offending pattern, in the order patterns were added.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex("*"));
    /// assert_eq!(b.build().unwrap_err().index(), 0);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// What is wrong, in one line.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::contains(Vec::<String>::new()));
    /// assert!(b.build().unwrap_err().message().contains("at least one literal"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For a regex syntax error, the byte offset inside the pattern text
    /// where the problem starts.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex(r"ok\p{Nope}"));
    /// assert_eq!(b.build().unwrap_err().offset_in_pattern(), Some(2));
    /// ```
    pub fn offset_in_pattern(&self) -> Option<usize> {
        self.offset
    }

    /// For a regex syntax error, the 1-based column (in characters) inside
    /// the pattern text where the problem starts.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex("é("));
    /// let err = b.build().unwrap_err();
    /// assert_eq!((err.offset_in_pattern(), err.column_in_pattern()), (Some(2), Some(2)));
    /// ```
    pub fn column_in_pattern(&self) -> Option<usize> {
        self.column
    }

    /// Whether the pattern was rejected for exceeding the size limit (as
    /// opposed to being malformed).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex(r"\w{1000}{1000}"));
    /// assert!(b.build().unwrap_err().is_size_limit());
    /// ```
    pub fn is_size_limit(&self) -> bool {
        self.kind == PatternErrorKind::SizeLimit
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "log pattern {}: {}", self.index, self.message)?;
        if let Some(column) = self.column {
            write!(f, " (at column {column} of the pattern)")?;
        }
        Ok(())
    }
}

impl std::error::Error for PatternError {}

/// Collects patterns and compiles them into a [`LogMatcher`].
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
///
/// let mut b = LogMatcherBuilder::new();
/// b.size_limit(64 << 10);
/// let id = b.add(PatternSpec::ends_with("[preauth]"));
/// let m = b.build()?;
/// let mut s = m.scratch();
/// let mut seen = Vec::new();
/// m.for_each_match("Connection closed by 10.0.0.1 [preauth]", &mut s, |p| seen.push(p));
/// assert_eq!(seen, vec![id]);
/// # Ok::<(), healbot_core::logmatch::PatternError>(())
/// ```
#[derive(Clone, Debug)]
pub struct LogMatcherBuilder {
    specs: Vec<PatternSpec>,
    size_limit: usize,
    cache_capacity: usize,
}

impl Default for LogMatcherBuilder {
    fn default() -> Self {
        LogMatcherBuilder::new()
    }
}

impl LogMatcherBuilder {
    /// A builder with no patterns and the default limits.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::LogMatcherBuilder;
    /// let m = LogMatcherBuilder::new().build()?;
    /// assert_eq!(m.stats().patterns, 0);
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn new() -> LogMatcherBuilder {
        LogMatcherBuilder { specs: Vec::new(), size_limit: DEFAULT_SIZE_LIMIT, cache_capacity: DEFAULT_CACHE_CAPACITY }
    }

    /// Limits each pattern's compiled size (its NFA, and any full DFA built
    /// for it) to `bytes`; the text of a pattern is limited to the same
    /// number of bytes. The default is [`DEFAULT_SIZE_LIMIT`] (1 MiB).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.size_limit(1024).add(PatternSpec::regex(r"\w{100}"));
    /// assert!(b.build().unwrap_err().is_size_limit());
    /// ```
    pub fn size_limit(&mut self, bytes: usize) -> &mut LogMatcherBuilder {
        self.size_limit = bytes;
        self
    }

    /// Limits the lazy DFA cache each pattern may grow in a [`Scratch`]
    /// (default [`DEFAULT_CACHE_CAPACITY`], 256 KiB). Caches only grow for
    /// patterns that actually run, and past the limit the regex engine
    /// clears its cache rather than grow it.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.cache_capacity(64 << 10).add(PatternSpec::regex(r"\d+ms"));
    /// assert!(b.build().is_ok());
    /// ```
    pub fn cache_capacity(&mut self, bytes: usize) -> &mut LogMatcherBuilder {
        self.cache_capacity = bytes;
        self
    }

    /// Adds a pattern and returns its identifier. Errors are reported by
    /// [`build`](Self::build), by index.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// let id = b.add(PatternSpec::regex("x"));
    /// assert_eq!(id.as_usize(), 0);
    /// ```
    pub fn add(&mut self, spec: PatternSpec) -> PatternId {
        let id = PatternId(u32::try_from(self.specs.len()).unwrap_or(u32::MAX));
        self.specs.push(spec);
        id
    }

    /// Compiles every pattern. The first pattern that fails (in the order
    /// added) is reported.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex(r"\d+"));
    /// b.add(PatternSpec::contains(["foo"]));
    /// let m = b.build()?;
    /// assert_eq!((m.stats().with_literal, m.stats().fallback), (1, 1));
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn build(&self) -> Result<LogMatcher, PatternError> {
        Compiler::new(self).compile()
    }
}

/// What a search checks after a pattern became a candidate.
#[derive(Clone, Debug)]
enum Confirm {
    /// The trigger proves the match.
    None,
    /// The line starts with these bytes.
    Prefix(Box<[u8]>),
    /// The line ends with these bytes.
    Suffix(Box<[u8]>),
    /// Every one of these regexes (indices into `LogMatcher::regexes`) matches.
    All(Box<[u32]>),
}

/// One distinct prefilter literal.
#[derive(Clone, Debug)]
struct LitEntry {
    /// The exact bytes to compare when the automaton folds case but this
    /// literal must not (`None`: no comparison).
    verify: Option<Box<[u8]>>,
    /// The patterns this literal makes candidates: `targets[start..end]`.
    start: u32,
    end: u32,
}

#[derive(Clone, Debug)]
struct Prefilter {
    ac: AhoCorasick,
    lits: Box<[LitEntry]>,
    targets: Box<[u32]>,
}

#[derive(Clone, Debug)]
struct Fallback {
    set: meta::Regex,
    /// The pattern id of each member of `set`.
    patterns: Box<[u32]>,
}

/// Counts describing a compiled [`LogMatcher`].
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
/// let mut b = LogMatcherBuilder::new();
/// b.add(PatternSpec::regex("foo|bar"));
/// b.add(PatternSpec::regex(r"\d{4}-\d{2}"));
/// let s = b.build()?.stats();
/// assert_eq!((s.patterns, s.with_literal, s.fallback, s.unconfirmed), (2, 1, 1, 1));
/// # Ok::<(), healbot_core::logmatch::PatternError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MatcherStats {
    /// Patterns compiled.
    pub patterns: usize,
    /// Patterns found through the literal prefilter.
    pub with_literal: usize,
    /// Patterns with no usable literal, checked on every line. Keep this
    /// small: each one costs a regex pass per line.
    pub fallback: usize,
    /// Patterns whose literal is the whole pattern: a prefilter hit is a
    /// match, with no regex run.
    pub unconfirmed: usize,
    /// Distinct literals in the prefilter automaton.
    pub literals: usize,
    /// Regexes kept for confirming candidates.
    pub regexes: usize,
    /// An estimate of the heap memory the matcher holds, in bytes (not
    /// counting any [`Scratch`]).
    pub heap_bytes: usize,
}

/// A compiled, immutable set of log patterns.
///
/// `Send + Sync`: share one across threads (behind an `Arc`), with one
/// [`Scratch`] per thread.
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
///
/// let mut b = LogMatcherBuilder::new();
/// let a = b.add(PatternSpec::contains(["block"]));
/// let c = b.add(PatternSpec::regex(r"blk_-?\d+"));
/// let m = std::sync::Arc::new(b.build()?);
/// let worker = {
///     let m = m.clone();
///     std::thread::spawn(move || {
///         let mut s = m.scratch();
///         let mut out = Vec::new();
///         m.matches("Deleting block blk_-42 file", &mut s, &mut out);
///         out
///     })
/// };
/// assert_eq!(worker.join().unwrap(), vec![a, c]);
/// # Ok::<(), healbot_core::logmatch::PatternError>(())
/// ```
#[derive(Clone, Debug)]
pub struct LogMatcher {
    fingerprint: u64,
    confirm: Box<[Confirm]>,
    regexes: Box<[meta::Regex]>,
    prefilter: Option<Prefilter>,
    fallback: Option<Fallback>,
    stats: MatcherStats,
}

/// Per-thread mutable space for searching a [`LogMatcher`].
///
/// Made by [`LogMatcher::scratch`]. A scratch made for one matcher and used
/// with another is reset to fit it (which allocates) rather than misused.
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
/// let mut b = LogMatcherBuilder::new();
/// b.add(PatternSpec::contains(["x"]));
/// let m = b.build()?;
/// let mut scratch = m.scratch();
/// let mut n = 0;
/// for line in ["x", "y", "xx"] {
///     m.for_each_match(line, &mut scratch, |_| n += 1);
/// }
/// assert_eq!(n, 2);
/// # Ok::<(), healbot_core::logmatch::PatternError>(())
/// ```
#[derive(Debug)]
pub struct Scratch {
    fingerprint: u64,
    /// Candidate bitset, one bit per pattern.
    seen: Vec<u64>,
    candidates: Vec<u32>,
    hits: Vec<u32>,
    caches: Vec<Option<meta::Cache>>,
    fallback_cache: Option<meta::Cache>,
    fallback_set: PatternSet,
}

impl LogMatcher {
    /// A scratch space for searching this matcher.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::regex("a+"));
    /// let m = b.build()?;
    /// let mut s = m.scratch();
    /// let mut out = Vec::new();
    /// m.matches("baa", &mut s, &mut out);
    /// assert_eq!(out.len(), 1);
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn scratch(&self) -> Scratch {
        let fallback_len = self.fallback.as_ref().map_or(0, |f| f.patterns.len());
        Scratch {
            fingerprint: self.fingerprint,
            seen: vec![0; self.confirm.len().div_ceil(64)],
            candidates: Vec::with_capacity(64),
            hits: Vec::with_capacity(64),
            caches: (0..self.regexes.len()).map(|_| None).collect(),
            fallback_cache: self.fallback.as_ref().map(|f| f.set.create_cache()),
            fallback_set: PatternSet::new(fallback_len),
        }
    }

    /// Calls `f` with every pattern that matches `line`, each once, in
    /// ascending [`PatternId`] order.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// let p0 = b.add(PatternSpec::regex("foo|bar"));
    /// let p1 = b.add(PatternSpec::contains(["bar", "foo"]));
    /// let m = b.build()?;
    /// let mut s = m.scratch();
    /// let mut got = Vec::new();
    /// m.for_each_match("foo bar foo", &mut s, |p| got.push(p));
    /// assert_eq!(got, vec![p0, p1]);
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn for_each_match(&self, line: &str, scratch: &mut Scratch, mut f: impl FnMut(PatternId)) {
        self.search(line.as_bytes(), scratch);
        for &p in &scratch.hits {
            f(PatternId(p));
        }
    }

    /// Replaces the contents of `out` with every pattern that matches
    /// `line`, in ascending order.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// let p = b.add(PatternSpec::starts_with("WARN"));
    /// let m = b.build()?;
    /// let (mut s, mut out) = (m.scratch(), Vec::new());
    /// m.matches("WARN disk 91% full", &mut s, &mut out);
    /// assert_eq!(out, vec![p]);
    /// m.matches("INFO WARN", &mut s, &mut out);
    /// assert!(out.is_empty());
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn matches(&self, line: &str, scratch: &mut Scratch, out: &mut Vec<PatternId>) {
        out.clear();
        self.for_each_match(line, scratch, |p| out.push(p));
    }

    /// Whether any pattern matches `line`.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::ends_with("failed"));
    /// let m = b.build()?;
    /// let mut s = m.scratch();
    /// assert!(m.is_match("login failed", &mut s));
    /// assert!(!m.is_match("login ok", &mut s));
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn is_match(&self, line: &str, scratch: &mut Scratch) -> bool {
        self.search(line.as_bytes(), scratch);
        !scratch.hits.is_empty()
    }

    /// Counts describing this matcher.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::contains(["disk full"]));
    /// let s = b.build()?.stats();
    /// assert_eq!((s.patterns, s.literals, s.fallback), (1, 1, 0));
    /// assert!(s.heap_bytes > 0);
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn stats(&self) -> MatcherStats {
        self.stats
    }

    /// The number of patterns.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// b.add(PatternSpec::contains(["x"]));
    /// assert_eq!(b.build()?.pattern_len(), 1);
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn pattern_len(&self) -> usize {
        self.confirm.len()
    }

    /// Fills `scratch.hits` with the matching pattern ids, sorted.
    fn search(&self, line: &[u8], scratch: &mut Scratch) {
        if scratch.fingerprint != self.fingerprint
            || scratch.seen.len() != self.confirm.len().div_ceil(64)
            || scratch.caches.len() != self.regexes.len()
        {
            *scratch = self.scratch();
        }
        let Scratch { seen, candidates, hits, caches, fallback_cache, fallback_set, .. } = scratch;
        candidates.clear();
        hits.clear();

        if let Some(pf) = &self.prefilter {
            for m in pf.ac.find_overlapping_iter(line) {
                let Some(lit) = pf.lits.get(m.pattern().as_usize()) else {
                    continue;
                };
                if let Some(want) = &lit.verify {
                    if line.get(m.start()..m.end()) != Some(&want[..]) {
                        continue;
                    }
                }
                let targets = pf.targets.get(lit.start as usize..lit.end as usize).unwrap_or(&[]);
                for &p in targets {
                    let (word, bit) = (p as usize / 64, 1u64 << (p % 64));
                    if let Some(w) = seen.get_mut(word) {
                        if *w & bit == 0 {
                            *w |= bit;
                            candidates.push(p);
                        }
                    }
                }
            }
        }
        if let (Some(fb), Some(cache)) = (&self.fallback, fallback_cache.as_mut()) {
            fallback_set.clear();
            fb.set.which_overlapping_matches_with(cache, &Input::new(line), fallback_set);
            for pid in fallback_set.iter() {
                if let Some(&p) = fb.patterns.get(pid.as_usize()) {
                    candidates.push(p);
                }
            }
        }
        for &p in candidates.iter() {
            if let Some(w) = seen.get_mut(p as usize / 64) {
                *w = 0;
            }
            let ok = match self.confirm.get(p as usize) {
                Some(Confirm::None) => true,
                Some(Confirm::Prefix(b)) => line.starts_with(b),
                Some(Confirm::Suffix(b)) => line.ends_with(b),
                Some(Confirm::All(res)) => res.iter().all(|&r| {
                    let (Some(re), Some(slot)) = (self.regexes.get(r as usize), caches.get_mut(r as usize)) else {
                        return false;
                    };
                    let cache = slot.get_or_insert_with(|| re.create_cache());
                    re.search_half_with(cache, &Input::new(line).earliest(true)).is_some()
                }),
                None => false,
            };
            if ok {
                hits.push(p);
            }
        }
        hits.sort_unstable();
    }
}

/// What one pattern compiles to before the shared structures are built.
struct Plan {
    /// Literals, one of which occurs in every matching line; `None` puts the
    /// pattern in the fallback set with `fallback_hir`.
    literals: Option<Vec<Lit>>,
    fallback_hir: Option<Hir>,
    confirm: PlanConfirm,
}

enum PlanConfirm {
    None,
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Regexes(Vec<Hir>),
}

struct Compiler<'b> {
    builder: &'b LogMatcherBuilder,
}

impl<'b> Compiler<'b> {
    fn new(builder: &'b LogMatcherBuilder) -> Compiler<'b> {
        Compiler { builder }
    }

    fn meta_config(&self, size_limit: usize) -> meta::Config {
        meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit)
            .nfa_size_limit(Some(size_limit))
            .onepass_size_limit(Some(size_limit))
            .dfa_size_limit(Some(size_limit.min(1 << 20)))
            .hybrid_cache_capacity(self.builder.cache_capacity)
    }

    fn parse(&self, index: usize, pattern: &str, ci: bool) -> Result<Hir, PatternError> {
        if pattern.len() > self.builder.size_limit {
            return Err(PatternError::new(
                index,
                PatternErrorKind::SizeLimit,
                format!(
                    "pattern is {} bytes long, over the size limit of {} bytes",
                    pattern.len(),
                    self.builder.size_limit
                ),
            ));
        }
        let config = syntax::Config::new().case_insensitive(ci).nest_limit(NEST_LIMIT);
        syntax::parse_with(pattern, &config).map_err(|e| syntax_error(index, &e))
    }

    fn literal_hir(&self, index: usize, text: &str, ci: bool) -> Result<Hir, PatternError> {
        if ci {
            self.parse(index, &regex_syntax::escape(text), true)
        } else {
            Ok(Hir::literal(text.as_bytes()))
        }
    }

    fn plan(&self, index: usize, spec: &PatternSpec) -> Result<Plan, PatternError> {
        let ci = spec.case_insensitive;
        match &spec.pattern {
            LogPattern::Regex(p) => {
                let hir = self.parse(index, p, ci)?;
                let ex = extract(&hir);
                if let Some(exact) = ex.exact.as_ref().filter(|e| !ex.has_look && usable(e)) {
                    if exact.iter().all(Lit::is_proof) {
                        return Ok(Plan {
                            literals: Some(exact.clone()),
                            fallback_hir: None,
                            confirm: PlanConfirm::None,
                        });
                    }
                }
                Ok(match ex.best() {
                    Some(best) => Plan {
                        literals: Some(best.clone()),
                        fallback_hir: None,
                        confirm: PlanConfirm::Regexes(vec![hir]),
                    },
                    None => Plan { literals: None, fallback_hir: Some(hir), confirm: PlanConfirm::None },
                })
            }
            LogPattern::StartsWith(s) | LogPattern::EndsWith(s) => {
                let starts = matches!(spec.pattern, LogPattern::StartsWith(_));
                let lit = self.literal_hir(index, s, ci)?;
                let best = extract(&lit).best().cloned();
                let anchored = if starts {
                    Hir::concat(vec![Hir::look(Look::Start), lit])
                } else {
                    Hir::concat(vec![lit, Hir::look(Look::End)])
                };
                Ok(match (best, ci) {
                    (Some(best), false) => {
                        let bytes = s.as_bytes().to_vec();
                        let confirm = if starts { PlanConfirm::Prefix(bytes) } else { PlanConfirm::Suffix(bytes) };
                        Plan { literals: Some(best), fallback_hir: None, confirm }
                    }
                    (Some(best), true) => {
                        Plan { literals: Some(best), fallback_hir: None, confirm: PlanConfirm::Regexes(vec![anchored]) }
                    }
                    (None, _) => Plan { literals: None, fallback_hir: Some(anchored), confirm: PlanConfirm::None },
                })
            }
            LogPattern::Contains(all) => {
                if all.is_empty() {
                    return Err(PatternError::new(
                        index,
                        PatternErrorKind::Invalid,
                        "a `contains` pattern needs at least one literal",
                    ));
                }
                let mut distinct: Vec<&String> = all.iter().collect();
                distinct.sort();
                distinct.dedup();
                let mut hirs = Vec::with_capacity(distinct.len());
                for s in &distinct {
                    hirs.push(self.literal_hir(index, s, ci)?);
                }
                // The most selective literal triggers; the others confirm.
                let mut chosen: Option<(usize, Vec<Lit>, bool)> = None;
                for (i, hir) in hirs.iter().enumerate() {
                    let ex = extract(hir);
                    let Some(best) = ex.best() else { continue };
                    let proof = ex.exact.as_ref() == Some(best) && best.iter().all(Lit::is_proof);
                    let better = chosen.as_ref().is_none_or(|(_, c, _)| literal::score(best) > literal::score(c));
                    if better {
                        chosen = Some((i, best.clone(), proof));
                    }
                }
                Ok(match chosen {
                    Some((i, best, proof)) => {
                        let rest: Vec<Hir> =
                            hirs.into_iter().enumerate().filter(|&(j, _)| j != i || !proof).map(|(_, h)| h).collect();
                        let confirm = if rest.is_empty() { PlanConfirm::None } else { PlanConfirm::Regexes(rest) };
                        Plan { literals: Some(best), fallback_hir: None, confirm }
                    }
                    None => {
                        let mut hirs = hirs.into_iter();
                        let first = hirs.next();
                        let rest: Vec<Hir> = hirs.collect();
                        let confirm = if rest.is_empty() { PlanConfirm::None } else { PlanConfirm::Regexes(rest) };
                        Plan { literals: None, fallback_hir: first, confirm }
                    }
                })
            }
        }
    }

    fn compile(&self) -> Result<LogMatcher, PatternError> {
        let specs = &self.builder.specs;
        if u32::try_from(specs.len()).is_err() {
            return Err(PatternError::new(u32::MAX as usize, PatternErrorKind::Invalid, "too many patterns"));
        }
        let mut confirm = Vec::with_capacity(specs.len());
        let mut regexes: Vec<meta::Regex> = Vec::new();
        let mut lit_index: HashMap<Lit, usize> = HashMap::new();
        let mut lit_targets: Vec<(Lit, Vec<u32>)> = Vec::new();
        let mut fallback_hirs: Vec<Hir> = Vec::new();
        let mut fallback_ids: Vec<u32> = Vec::new();
        let mut stats = MatcherStats { patterns: specs.len(), ..MatcherStats::default() };
        let config = self.meta_config(self.builder.size_limit);

        for (index, spec) in specs.iter().enumerate() {
            let id = index as u32;
            let plan = self.plan(index, spec)?;
            let c = match plan.confirm {
                PlanConfirm::None => Confirm::None,
                PlanConfirm::Prefix(b) => Confirm::Prefix(b.into()),
                PlanConfirm::Suffix(b) => Confirm::Suffix(b.into()),
                PlanConfirm::Regexes(hirs) => {
                    let mut ids = Vec::with_capacity(hirs.len());
                    for hir in &hirs {
                        let re = meta::Builder::new()
                            .configure(config.clone())
                            .build_from_hir(hir)
                            .map_err(|e| build_error(index, &e))?;
                        ids.push(regexes.len() as u32);
                        regexes.push(re);
                    }
                    Confirm::All(ids.into())
                }
            };
            match (plan.literals, plan.fallback_hir) {
                (Some(lits), _) => {
                    stats.with_literal += 1;
                    if matches!(c, Confirm::None) {
                        stats.unconfirmed += 1;
                    }
                    for lit in lits {
                        let slot = *lit_index.entry(lit.clone()).or_insert_with(|| {
                            lit_targets.push((lit, Vec::new()));
                            lit_targets.len() - 1
                        });
                        if let Some((_, targets)) = lit_targets.get_mut(slot) {
                            targets.push(id);
                        }
                    }
                }
                (None, Some(hir)) => {
                    // Checked alone first so an error names this pattern.
                    meta::Builder::new()
                        .configure(config.clone())
                        .build_from_hir(&hir)
                        .map_err(|e| build_error(index, &e))?;
                    fallback_hirs.push(hir);
                    fallback_ids.push(id);
                }
                (None, None) => {
                    return Err(PatternError::new(index, PatternErrorKind::Invalid, "pattern has nothing to match"));
                }
            }
            confirm.push(c);
        }

        let prefilter = if lit_targets.is_empty() {
            None
        } else {
            let folded = lit_targets.iter().any(|(l, _)| l.folded);
            let mut targets = Vec::new();
            let mut lits = Vec::with_capacity(lit_targets.len());
            for (lit, ts) in &lit_targets {
                let start = targets.len() as u32;
                targets.extend_from_slice(ts);
                let verify =
                    (folded && !lit.folded && lit.strict_letters).then(|| lit.bytes.clone().into_boxed_slice());
                lits.push(LitEntry { verify, start, end: targets.len() as u32 });
            }
            let patterns: Vec<&[u8]> = lit_targets.iter().map(|(l, _)| l.bytes.as_slice()).collect();
            let mut ac_builder = AhoCorasick::builder();
            ac_builder.match_kind(AcMatchKind::Standard).ascii_case_insensitive(folded);
            // A DFA is fastest; past its size bound, let the crate choose.
            let ac = match ac_builder.kind(Some(AhoCorasickKind::DFA)).build(&patterns) {
                Ok(ac) => ac,
                Err(_) => ac_builder.kind(None).build(&patterns).map_err(|e| {
                    PatternError::new(
                        specs.len().saturating_sub(1),
                        PatternErrorKind::SizeLimit,
                        format!("literal prefilter: {e}"),
                    )
                })?,
            };
            Some(Prefilter { ac, lits: lits.into(), targets: targets.into() })
        };

        let fallback = if fallback_hirs.is_empty() {
            None
        } else {
            let limit = self.builder.size_limit.saturating_mul(fallback_hirs.len());
            let set_config = self.meta_config(limit).match_kind(MatchKind::All);
            let set = meta::Builder::new().configure(set_config).build_many_from_hir(&fallback_hirs).map_err(|e| {
                let index = fallback_ids.last().map_or(0, |&i| i as usize);
                let mut err = build_error(index, &e);
                err.message = format!("the set of patterns without literals is too large: {}", err.message);
                err
            })?;
            Some(Fallback { set, patterns: fallback_ids.into() })
        };

        stats.fallback = fallback.as_ref().map_or(0, |f| f.patterns.len());
        stats.literals = lit_targets.len();
        stats.regexes = regexes.len();
        stats.heap_bytes = regexes.iter().map(meta::Regex::memory_usage).sum::<usize>()
            + prefilter.as_ref().map_or(0, |p| {
                p.ac.memory_usage()
                    + p.targets.len() * 4
                    + p.lits
                        .iter()
                        .map(|l| std::mem::size_of::<LitEntry>() + l.verify.as_ref().map_or(0, |v| v.len()))
                        .sum::<usize>()
            })
            + fallback.as_ref().map_or(0, |f| f.set.memory_usage() + f.patterns.len() * 4)
            + confirm.len() * std::mem::size_of::<Confirm>()
            + confirm
                .iter()
                .map(|c| match c {
                    Confirm::None => 0,
                    Confirm::Prefix(b) | Confirm::Suffix(b) => b.len(),
                    Confirm::All(r) => r.len() * 4,
                })
                .sum::<usize>()
            + regexes.len() * std::mem::size_of::<meta::Regex>();

        Ok(LogMatcher {
            fingerprint: self.fingerprint(),
            confirm: confirm.into(),
            regexes: regexes.into(),
            prefilter,
            fallback,
            stats,
        })
    }

    /// Identifies what was compiled, so a [`Scratch`] made for another
    /// matcher is noticed. Deterministic: no random keys.
    fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.builder.specs.hash(&mut h);
        self.builder.size_limit.hash(&mut h);
        self.builder.cache_capacity.hash(&mut h);
        h.finish()
    }
}

fn syntax_error(index: usize, err: &regex_syntax::Error) -> PatternError {
    let (message, span) = match err {
        regex_syntax::Error::Parse(e) => (e.kind().to_string(), Some(*e.span())),
        regex_syntax::Error::Translate(e) => (e.kind().to_string(), Some(*e.span())),
        other => (other.to_string(), None),
    };
    PatternError {
        index,
        kind: PatternErrorKind::Syntax,
        message,
        offset: span.map(|s| s.start.offset),
        column: span.map(|s| s.start.column),
    }
}

fn build_error(index: usize, err: &meta::BuildError) -> PatternError {
    if let Some(e) = err.syntax_error() {
        return syntax_error(index, e);
    }
    match err.size_limit() {
        Some(limit) => PatternError::new(
            index,
            PatternErrorKind::SizeLimit,
            format!("pattern compiles to more than the size limit of {limit} bytes; simplify it (fewer or smaller repetitions, `(?-u)` classes) or raise the limit"),
        ),
        None => PatternError::new(index, PatternErrorKind::Invalid, err.to_string()),
    }
}
