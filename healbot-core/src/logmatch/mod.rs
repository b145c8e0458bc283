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
//! [`LogMatcherBuilder::build`] parses every pattern and extracts from its
//! syntax tree its *required literal sets*: sets of strings such that every
//! line the pattern matches holds one string of each set. Inner literals
//! count, not only prefixes: `^.*?:.*? Served block blk_.*? to /.*?$` needs
//! `" Served block blk_"` and `" to /"`. Case-insensitive letters stay in a
//! literal only when their case folding is ASCII (`k` also matches U+212A
//! KELVIN SIGN, so it becomes two alternatives). Literals are deduplicated
//! across the library. For each pattern, the set whose literals the fewest
//! other patterns share becomes its *trigger*. A search:
//!
//! 1. finds every occurrence of every literal in one pass (a sampled hash
//!    scan over 4-byte windows with an L1-resident bitmap, each hit verified
//!    in full; see `prefilter.rs`), and makes the patterns a hit literal
//!    triggers *candidates*;
//! 2. drops the candidates missing one of their other required sets;
//! 3. checks the *fallback* patterns, the few with no usable literal
//!    (`\d+`, [`MatcherStats::fallback`] counts them): anchored ones and ones
//!    with a rare required byte (`@`, found with `memchr` first) alone, the
//!    rest in one multi-pattern pass once there are more than a handful;
//! 4. confirms each candidate: not at all when the literals *are* the
//!    pattern (`foo|bar`, `contains`), by a byte comparison for
//!    `startswith` / `endswith`, by finding the literals in order for
//!    patterns made of literals and `.*` gaps (most log templates), and
//!    otherwise with the pattern's own [`regex_automata::meta::Regex`].
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
mod prefilter;
#[cfg(test)]
mod tests;

use std::fmt;
use std::hash::{Hash, Hasher};

use regex_automata::meta;
use regex_automata::util::prefilter::Prefilter as UtilPrefilter;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet, Span};
use regex_syntax::hir::{Hir, Look};

use crate::window::hash::FixedMap;

use literal::{extract, literal_sequence, required_sets, usable, Lit, LiteralSeq};

/// The default limit on one pattern's compiled size, in bytes (1 MiB).
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec, DEFAULT_SIZE_LIMIT};
/// let mut b = LogMatcherBuilder::new();
/// b.add(PatternSpec::contains(["x".repeat(DEFAULT_SIZE_LIMIT + 1)]));
/// assert!(b.build().unwrap_err().is_size_limit());
/// ```
pub const DEFAULT_SIZE_LIMIT: usize = 1 << 20;
/// The default capacity of one pattern's lazy DFA cache in a [`Scratch`]
/// (2 MiB, as the `regex` crate); a bound, not an allocation.
///
/// # Example
///
/// ```
/// use healbot_core::logmatch::{LogMatcherBuilder, DEFAULT_CACHE_CAPACITY};
/// let mut b = LogMatcherBuilder::new();
/// b.cache_capacity(DEFAULT_CACHE_CAPACITY / 4);
/// assert!(b.build().is_ok());
/// ```
pub const DEFAULT_CACHE_CAPACITY: usize = 2 << 20;
/// The most literal sets the prefilter requires of one `contains` pattern
/// (the other literals are confirmed by regex).
const MAX_SETS_PER_PATTERN: usize = 16;
/// Up to this many literal-free, unanchored, ungated patterns are each
/// scanned alone; more share one multi-pattern pass.
const MAX_SOLO_SCANS: usize = 8;
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
    /// (default [`DEFAULT_CACHE_CAPACITY`], 2 MiB, as the `regex` crate). Caches only grow for
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
    /// Literals in order with `.*` gaps (see [`SeqConfirm`]).
    Sequence(Box<SeqConfirm>),
}

/// The literals the prefilter found on the current line.
#[derive(Clone, Copy)]
struct LineLiterals<'a> {
    /// One bit per literal: hit on this line.
    hits: &'a [u64],
    /// Per hit literal, the start of its leftmost occurrence.
    first: &'a [u32],
}

impl LineLiterals<'_> {
    /// The leftmost occurrence of literal `l`, `None` when it is absent.
    fn first(&self, l: u32) -> Option<usize> {
        let hit = self.hits.get(l as usize / 64).is_some_and(|w| w & (1 << (l % 64)) != 0);
        if hit {
            self.first.get(l as usize).map(|&s| s as usize)
        } else {
            None
        }
    }
}

/// One literal of a [`SeqConfirm`].
#[derive(Clone, Debug)]
struct SeqPart {
    bytes: Box<[u8]>,
    finder: UtilPrefilter,
    /// The same bytes as a prefilter literal, whose occurrences the scan
    /// already found: no search needed when its leftmost one is far enough.
    literal: Option<u32>,
}

/// Confirms a pattern of literals separated by `.*` gaps by finding each
/// literal, leftmost, after the previous one (no regex engine). A line
/// holding `\n`, which a non-`(?s)` gap cannot cross, goes to `regex`.
#[derive(Clone, Debug)]
struct SeqConfirm {
    parts: Box<[SeqPart]>,
    anchored_start: bool,
    anchored_end: bool,
    dot_all: bool,
    regex: u32,
}

impl SeqConfirm {
    fn new(seq: LiteralSeq, regex: u32) -> Option<SeqConfirm> {
        let parts = seq
            .parts
            .into_iter()
            .map(|p| {
                let finder = UtilPrefilter::new(MatchKind::LeftmostFirst, &[&p])?;
                Some(SeqPart { bytes: p.into_boxed_slice(), finder, literal: None })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(SeqConfirm {
            parts: parts.into(),
            anchored_start: seq.anchored_start,
            anchored_end: seq.anchored_end,
            dot_all: seq.dot_all,
            regex,
        })
    }

    /// Whether the sequence matches `line`; `None` when the regex must
    /// decide.
    fn is_match(
        &self,
        line: &[u8],
        has_newline: &mut Option<bool>,
        newline: &Option<UtilPrefilter>,
        found: LineLiterals<'_>,
    ) -> Option<bool> {
        if !self.dot_all
            && *has_newline.get_or_insert_with(|| match newline {
                Some(nl) => nl.find(line, Span::from(0..line.len())).is_some(),
                None => line.contains(&b'\n'),
            })
        {
            return None;
        }
        let n = self.parts.len();
        let mut at = 0;
        for (i, part) in self.parts.iter().enumerate() {
            if i == 0 && self.anchored_start {
                if !line.starts_with(&part.bytes) {
                    return Some(false);
                }
                at = part.bytes.len();
            } else if i + 1 == n && self.anchored_end {
                return Some(line.len() >= at + part.bytes.len() && line.ends_with(&part.bytes));
            } else {
                // The scan saw every occurrence of a prefilter literal: absent
                // means absent, and a leftmost occurrence at or after `at` is
                // the one a search would find.
                if let Some(l) = part.literal {
                    match found.first(l) {
                        None => return Some(false),
                        Some(s) if s >= at => {
                            at = s + part.bytes.len();
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                match part.finder.find(line, Span::from(at..line.len())) {
                    Some(span) => at = span.end,
                    None => return Some(false),
                }
            }
        }
        Some(true)
    }
}

/// A range of indices into one of the flat arrays below.
#[derive(Clone, Copy, Debug)]
struct Range32 {
    start: u32,
    end: u32,
}

/// The literal prefilter and the sets each pattern requires.
///
/// Every pattern with literals has one or more *required sets* (a matching
/// line holds an alternative of each). One set, the *trigger*, is indexed:
/// a hit on one of its literals makes the pattern a candidate. The others
/// are checked against the literals hit on the line before any regex runs.
#[derive(Clone, Debug)]
struct Prefilter {
    finder: prefilter::Prefilter,
    /// Per literal, the patterns it triggers: `triggers[start..end]`.
    lit_triggers: Box<[Range32]>,
    triggers: Box<[u32]>,
    /// Pattern `p`'s other sets are `rest_offsets[p]..rest_offsets[p + 1]`,
    /// indices into `rest_sets`; set `k` is
    /// `set_lits[rest_sets[k]..rest_sets[k + 1]]`.
    rest_offsets: Box<[u32]>,
    rest_sets: Box<[u32]>,
    set_lits: Box<[u32]>,
}

impl Prefilter {
    /// Whether every non-trigger set of pattern `p` had a literal hit.
    fn rest_satisfied(&self, p: u32, lit_hits: &[u64]) -> bool {
        let hit = |l: u32| lit_hits.get(l as usize / 64).is_some_and(|w| w & (1 << (l % 64)) != 0);
        let (Some(&a), Some(&b)) = (self.rest_offsets.get(p as usize), self.rest_offsets.get(p as usize + 1)) else {
            return true;
        };
        (a..b).all(|k| {
            let (Some(&s), Some(&e)) = (self.rest_sets.get(k as usize), self.rest_sets.get(k as usize + 1)) else {
                return false;
            };
            self.set_lits.get(s as usize..e as usize).is_some_and(|set| set.iter().any(|&l| hit(l)))
        })
    }
}

#[derive(Clone, Debug)]
struct Fallback {
    /// Patterns scanned together in one multi-pattern pass per line.
    set: Option<meta::Regex>,
    /// The pattern id of each member of `set`.
    set_patterns: Box<[u32]>,
    /// Patterns checked alone: anchored ones (the regex looks at the start
    /// only) and ones gated by a rare byte they require.
    solo: Box<[Solo]>,
}

/// A literal-free pattern checked on its own.
#[derive(Clone, Debug)]
struct Solo {
    pattern: u32,
    /// A byte every match contains, searched with `memchr` first.
    gate: Option<UtilPrefilter>,
    regex: u32,
}

impl Fallback {
    fn len(&self) -> usize {
        self.set_patterns.len() + self.solo.len()
    }
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
    /// Finds `\n` (for literal sequences whose gaps cannot cross one).
    newline: Option<UtilPrefilter>,
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
    /// Literals hit on this line, one bit per literal, and their list.
    lit_hits: Vec<u64>,
    lit_touched: Vec<u32>,
    /// Per literal hit on this line, the start of its leftmost occurrence.
    lit_first: Vec<u32>,
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
        let fallback_len = self.fallback.as_ref().map_or(0, |f| f.set_patterns.len());
        Scratch {
            fingerprint: self.fingerprint,
            seen: vec![0; self.confirm.len().div_ceil(64)],
            lit_hits: vec![0; self.literal_len().div_ceil(64)],
            lit_touched: Vec::with_capacity(64),
            lit_first: vec![0; self.literal_len()],
            candidates: Vec::with_capacity(64),
            hits: Vec::with_capacity(64),
            caches: (0..self.regexes.len()).map(|_| None).collect(),
            fallback_cache: self.fallback.as_ref().and_then(|f| f.set.as_ref()).map(meta::Regex::create_cache),
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

    fn regex_matches(&self, r: u32, line: &[u8], caches: &mut [Option<meta::Cache>]) -> bool {
        let (Some(re), Some(slot)) = (self.regexes.get(r as usize), caches.get_mut(r as usize)) else {
            return false;
        };
        let cache = slot.get_or_insert_with(|| re.create_cache());
        re.search_half_with(cache, &Input::new(line).earliest(true)).is_some()
    }

    fn literal_len(&self) -> usize {
        self.prefilter.as_ref().map_or(0, |p| p.lit_triggers.len())
    }

    /// Calls `f(i, p)` for every pattern `p` that matches line `i` of
    /// `text`, the lines numbered from 0 as [`crate::telemetry::split_lines`]
    /// splits a blob (`\n` ends a line, a `\r` before it is not part of the
    /// line, a final newline ends the last line). Lines in order, and
    /// patterns in ascending order within a line: the same calls as
    /// [`LogMatcher::for_each_match`] on each line in turn. Returns the
    /// number of lines.
    ///
    /// Cheaper than a call per line: the text is known to be UTF-8, and the
    /// scratch to fit, once.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::logmatch::{LogMatcherBuilder, PatternSpec};
    /// let mut b = LogMatcherBuilder::new();
    /// let refused = b.add(PatternSpec::contains(["connection refused"]));
    /// let m = b.build()?;
    /// let mut s = m.scratch();
    /// let mut got = Vec::new();
    /// let text = "GET / 200\r\ndial: connection refused\n\nconnection refused again\n";
    /// let lines = m.for_each_match_by_line(text, &mut s, |i, p| got.push((i, p)));
    /// assert_eq!(lines, 4);
    /// assert_eq!(got, vec![(1, refused), (3, refused)]);
    /// # Ok::<(), healbot_core::logmatch::PatternError>(())
    /// ```
    pub fn for_each_match_by_line(
        &self,
        text: &str,
        scratch: &mut Scratch,
        mut f: impl FnMut(usize, PatternId),
    ) -> usize {
        self.fit(scratch);
        let mut lines = 0;
        for (i, line) in crate::telemetry::split_lines(text.as_bytes()).enumerate() {
            lines = i + 1;
            self.search_fitted(line, scratch);
            for &p in &scratch.hits {
                f(i, PatternId(p));
            }
        }
        lines
    }

    /// Resets `scratch` to fit this matcher if it was made for another.
    #[inline(always)]
    fn fit(&self, scratch: &mut Scratch) {
        if scratch.fingerprint != self.fingerprint
            || scratch.seen.len() != self.confirm.len().div_ceil(64)
            || scratch.lit_hits.len() != self.literal_len().div_ceil(64)
            || scratch.lit_first.len() != self.literal_len()
            || scratch.caches.len() != self.regexes.len()
        {
            *scratch = self.scratch();
        }
    }

    /// Fills `scratch.hits` with the matching pattern ids, sorted.
    fn search(&self, line: &[u8], scratch: &mut Scratch) {
        self.fit(scratch);
        self.search_fitted(line, scratch);
    }

    /// [`LogMatcher::search`] with `scratch` known to fit this matcher.
    #[inline(always)]
    fn search_fitted(&self, line: &[u8], scratch: &mut Scratch) {
        scratch.candidates.clear();
        scratch.hits.clear();
        if let Some(pf) = &self.prefilter {
            pf.finder.for_each_hit(line, |lit, start| self.record(pf, scratch, lit, start));
        }
        // A line holding no literal, with no literal-free pattern to try,
        // matches nothing and set nothing to clear: most log lines.
        if !scratch.lit_touched.is_empty() || self.fallback.is_some() {
            self.finish(line, scratch);
        }
    }

    /// Records an occurrence of literal `lit` at `start` in the line: its
    /// leftmost start, and the patterns it triggers as candidates.
    #[inline(always)]
    fn record(&self, pf: &Prefilter, scratch: &mut Scratch, lit: usize, start: usize) {
        let Scratch { seen, lit_hits, lit_touched, lit_first, candidates, .. } = scratch;
        let (word, bit) = (lit / 64, 1u64 << (lit % 64));
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let Some(w) = lit_hits.get_mut(word) else {
            return;
        };
        let Some(first) = lit_first.get_mut(lit) else {
            return;
        };
        if *w & bit != 0 {
            *first = (*first).min(start);
            return;
        }
        *w |= bit;
        *first = start;
        lit_touched.push(lit as u32);
        let Some(r) = pf.lit_triggers.get(lit) else {
            return;
        };
        for &p in pf.triggers.get(r.start as usize..r.end as usize).unwrap_or(&[]) {
            let (word, bit) = (p as usize / 64, 1u64 << (p % 64));
            if let Some(w) = seen.get_mut(word) {
                if *w & bit == 0 {
                    *w |= bit;
                    candidates.push(p);
                }
            }
        }
    }

    /// Ends a line's search once its literal occurrences are recorded:
    /// filters and confirms the candidates into `scratch.hits`, sorted, and
    /// clears what the line set.
    #[inline(always)]
    fn finish(&self, line: &[u8], scratch: &mut Scratch) {
        let Scratch {
            seen,
            lit_hits,
            lit_touched,
            lit_first,
            candidates,
            hits,
            caches,
            fallback_cache,
            fallback_set,
            ..
        } = scratch;
        if let Some(pf) = &self.prefilter {
            // Drop the candidates missing a required set, and reset `seen`.
            candidates.retain(|&p| {
                if let Some(w) = seen.get_mut(p as usize / 64) {
                    *w = 0;
                }
                pf.rest_satisfied(p, lit_hits)
            });
        }
        if let Some(fb) = &self.fallback {
            if let (Some(set), Some(cache)) = (&fb.set, fallback_cache.as_mut()) {
                fallback_set.clear();
                set.which_overlapping_matches_with(cache, &Input::new(line), fallback_set);
                for pid in fallback_set.iter() {
                    if let Some(&p) = fb.set_patterns.get(pid.as_usize()) {
                        candidates.push(p);
                    }
                }
            }
            for solo in fb.solo.iter() {
                let gated_out = solo.gate.as_ref().is_some_and(|g| g.find(line, Span::from(0..line.len())).is_none());
                if !gated_out && self.regex_matches(solo.regex, line, caches) {
                    candidates.push(solo.pattern);
                }
            }
        }
        // Whether the line holds `\n`, computed once if a sequence asks.
        let mut has_newline = None;
        for &p in candidates.iter() {
            let ok = match self.confirm.get(p as usize) {
                Some(Confirm::None) => true,
                Some(Confirm::Prefix(b)) => line.starts_with(b),
                Some(Confirm::Suffix(b)) => line.ends_with(b),
                Some(Confirm::All(res)) => res.iter().all(|&r| self.regex_matches(r, line, caches)),
                Some(Confirm::Sequence(sc)) => match sc.is_match(
                    line,
                    &mut has_newline,
                    &self.newline,
                    LineLiterals { hits: lit_hits, first: lit_first },
                ) {
                    Some(yes) => yes,
                    None => self.regex_matches(sc.regex, line, caches),
                },
                None => false,
            };
            if ok {
                hits.push(p);
            }
        }
        for &l in lit_touched.iter() {
            if let Some(w) = lit_hits.get_mut(l as usize / 64) {
                *w = 0;
            }
        }
        lit_touched.clear();
        hits.sort_unstable();
    }
}

/// What one pattern compiles to before the shared structures are built.
struct Plan {
    /// Sets of literals; a matching line holds an alternative of every set.
    /// Empty puts the pattern in the fallback set with `fallback_hir`.
    literals: Vec<Vec<Lit>>,
    fallback_hir: Option<Hir>,
    confirm: PlanConfirm,
}

enum PlanConfirm {
    None,
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Regexes(Vec<Hir>),
    /// The sequence, and the regex for lines it cannot decide.
    Sequence(LiteralSeq, Hir),
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
        let fallback = |hir: Hir, confirm: PlanConfirm| Plan { literals: Vec::new(), fallback_hir: Some(hir), confirm };
        match &spec.pattern {
            LogPattern::Regex(p) => {
                let hir = self.parse(index, p, ci)?;
                let ex = extract(&hir);
                if let Some(exact) = ex.exact.as_ref().filter(|e| !ex.has_look && usable(e)) {
                    if exact.iter().all(Lit::is_proof) {
                        return Ok(Plan {
                            literals: vec![exact.clone()],
                            fallback_hir: None,
                            confirm: PlanConfirm::None,
                        });
                    }
                }
                let sets = prefer_long(required_sets(&hir));
                Ok(if sets.is_empty() {
                    fallback(hir, PlanConfirm::None)
                } else {
                    Plan {
                        literals: sets,
                        fallback_hir: None,
                        confirm: match literal_sequence(&hir) {
                            Some(seq) => PlanConfirm::Sequence(seq, hir),
                            None => PlanConfirm::Regexes(vec![hir]),
                        },
                    }
                })
            }
            LogPattern::StartsWith(s) | LogPattern::EndsWith(s) => {
                let starts = matches!(spec.pattern, LogPattern::StartsWith(_));
                let lit = self.literal_hir(index, s, ci)?;
                let sets = prefer_long(required_sets(&lit));
                let anchored = if starts {
                    Hir::concat(vec![Hir::look(Look::Start), lit])
                } else {
                    Hir::concat(vec![lit, Hir::look(Look::End)])
                };
                let confirm = match (ci, starts) {
                    (false, true) => PlanConfirm::Prefix(s.as_bytes().to_vec()),
                    (false, false) => PlanConfirm::Suffix(s.as_bytes().to_vec()),
                    (true, _) => PlanConfirm::Regexes(vec![anchored.clone()]),
                };
                Ok(if sets.is_empty() {
                    fallback(anchored, PlanConfirm::None)
                } else {
                    Plan { literals: sets, fallback_hir: None, confirm }
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
                // Each literal with a usable set is required by the
                // prefilter (up to `MAX_SETS_PER_PATTERN`, most selective
                // first); a regex confirms the others and any whose hit does
                // not prove it.
                let mut with_sets: Vec<(i64, Vec<Lit>, bool, Hir)> = Vec::new();
                let mut confirm = Vec::new();
                for text in &distinct {
                    let hir = self.literal_hir(index, text, ci)?;
                    let ex = extract(&hir);
                    match ex.best().cloned() {
                        Some(best) => {
                            let proof = ex.exact.as_ref() == Some(&best) && best.iter().all(Lit::is_proof);
                            with_sets.push((literal::score(&best), best, proof, hir));
                        }
                        None => confirm.push(hir),
                    }
                }
                with_sets.sort_by_key(|w| std::cmp::Reverse(w.0));
                let mut sets = Vec::new();
                for (i, (_, set, proof, hir)) in with_sets.into_iter().enumerate() {
                    if i < MAX_SETS_PER_PATTERN {
                        sets.push(set);
                        if !proof {
                            confirm.push(hir);
                        }
                    } else {
                        confirm.push(hir);
                    }
                }
                if sets.is_empty() {
                    let first = confirm.remove(0);
                    let rest = if confirm.is_empty() { PlanConfirm::None } else { PlanConfirm::Regexes(confirm) };
                    return Ok(fallback(first, rest));
                }
                Ok(Plan {
                    literals: sets,
                    fallback_hir: None,
                    confirm: if confirm.is_empty() { PlanConfirm::None } else { PlanConfirm::Regexes(confirm) },
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
        let mut lit_index: FixedMap<Lit, u32> = FixedMap::default();
        let mut lits: Vec<Lit> = Vec::new();
        // Per pattern, its required sets as literal ids (empty: fallback).
        let mut pattern_sets: Vec<Vec<Vec<u32>>> = Vec::with_capacity(specs.len());
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
                PlanConfirm::Sequence(seq, hir) => {
                    let re = meta::Builder::new()
                        .configure(config.clone())
                        .build_from_hir(&hir)
                        .map_err(|e| build_error(index, &e))?;
                    let id = regexes.len() as u32;
                    regexes.push(re);
                    match SeqConfirm::new(seq, id) {
                        Some(sc) => Confirm::Sequence(Box::new(sc)),
                        None => Confirm::All(Box::new([id])),
                    }
                }
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
            let mut sets = Vec::with_capacity(plan.literals.len());
            match (plan.literals.is_empty(), plan.fallback_hir) {
                (false, _) => {
                    stats.with_literal += 1;
                    if matches!(c, Confirm::None) {
                        stats.unconfirmed += 1;
                    }
                    for set in plan.literals {
                        let mut ids: Vec<u32> = set
                            .into_iter()
                            .map(|lit| {
                                *lit_index.entry(lit.clone()).or_insert_with(|| {
                                    lits.push(lit);
                                    (lits.len() - 1) as u32
                                })
                            })
                            .collect();
                        ids.sort_unstable();
                        ids.dedup();
                        if !sets.contains(&ids) {
                            sets.push(ids);
                        }
                    }
                }
                (true, Some(hir)) => {
                    // Checked alone first so an error names this pattern.
                    meta::Builder::new()
                        .configure(config.clone())
                        .build_from_hir(&hir)
                        .map_err(|e| build_error(index, &e))?;
                    fallback_hirs.push(hir);
                    fallback_ids.push(id);
                }
                (true, None) => {
                    return Err(PatternError::new(index, PatternErrorKind::Invalid, "pattern has nothing to match"));
                }
            }
            pattern_sets.push(sets);
            confirm.push(c);
        }

        // Sequence parts that are prefilter literals read their positions
        // from the scan instead of searching.
        for c in confirm.iter_mut() {
            if let Confirm::Sequence(sc) = c {
                for part in sc.parts.iter_mut() {
                    part.literal = lit_index.get(&Lit::exact(&part.bytes)).copied();
                }
            }
        }

        let prefilter = if lits.is_empty() {
            None
        } else {
            // How many patterns each literal serves: the trigger of a
            // pattern is its set whose literals are shared the least, so a
            // literal common to many patterns wakes few of them.
            let mut shared = vec![0u32; lits.len()];
            for sets in &pattern_sets {
                let mut mine: Vec<u32> = sets.iter().flatten().copied().collect();
                mine.sort_unstable();
                mine.dedup();
                for l in mine {
                    if let Some(c) = shared.get_mut(l as usize) {
                        *c += 1;
                    }
                }
            }
            let mut triggers_of: Vec<Vec<u32>> = vec![Vec::new(); lits.len()];
            let mut rest_offsets = Vec::with_capacity(pattern_sets.len() + 1);
            let mut rest_sets: Vec<u32> = Vec::new();
            let mut set_lits: Vec<u32> = Vec::new();
            rest_offsets.push(0u32);
            rest_sets.push(0);
            for (p, sets) in pattern_sets.iter().enumerate() {
                let cost = |set: &Vec<u32>| {
                    set.iter().map(|&l| shared.get(l as usize).copied().unwrap_or(0)).max().unwrap_or(0)
                };
                // `sets` are best first by literal score; the first of the
                // least shared wins.
                let trigger = (0..sets.len()).min_by_key(|&i| (cost(&sets[i]), i));
                for (i, set) in sets.iter().enumerate() {
                    if Some(i) == trigger {
                        for &l in set {
                            if let Some(t) = triggers_of.get_mut(l as usize) {
                                t.push(p as u32);
                            }
                        }
                    } else {
                        set_lits.extend_from_slice(set);
                        rest_sets.push(set_lits.len() as u32);
                    }
                }
                rest_offsets.push((rest_sets.len() - 1) as u32);
            }
            let mut triggers = Vec::new();
            let mut lit_triggers = Vec::with_capacity(lits.len());
            for t in &triggers_of {
                let start = triggers.len() as u32;
                triggers.extend_from_slice(t);
                lit_triggers.push(Range32 { start, end: triggers.len() as u32 });
            }
            let needles = lits
                .iter()
                .map(|lit| prefilter::Needle { bytes: lit.bytes.clone().into(), folded: lit.folded })
                .collect();
            Some(Prefilter {
                finder: prefilter::Prefilter::new(needles),
                lit_triggers: lit_triggers.into(),
                triggers: triggers.into(),
                rest_offsets: rest_offsets.into(),
                rest_sets: rest_sets.into(),
                set_lits: set_lits.into(),
            })
        };

        let fallback = if fallback_hirs.is_empty() {
            None
        } else {
            let mut set_hirs = Vec::new();
            let mut set_patterns = Vec::new();
            let mut solo = Vec::new();
            // Anchored patterns and patterns gated by a rare byte are cheap
            // alone; so is a full scan per pattern while there are few of
            // them. Past `MAX_SOLO_SCANS` ungated ones, they share one
            // multi-pattern pass.
            let plans: Vec<(Hir, u32, bool, Option<UtilPrefilter>)> = fallback_hirs
                .into_iter()
                .zip(fallback_ids)
                .map(|(hir, id)| {
                    let anchored = hir.properties().look_set_prefix().contains(Look::Start);
                    let gate = literal::required_bytes(&hir)
                        .into_iter()
                        .filter(|b| b.is_ascii() && prefilter::commonness(*b) <= 2)
                        .min_by_key(|&b| (prefilter::commonness(b), b))
                        .and_then(|b| UtilPrefilter::new(MatchKind::LeftmostFirst, &[[b]]));
                    (hir, id, anchored, gate)
                })
                .collect();
            let ungated = plans.iter().filter(|(_, _, anchored, gate)| !anchored && gate.is_none()).count();
            for (hir, id, anchored, gate) in plans {
                if anchored || gate.is_some() || ungated <= MAX_SOLO_SCANS {
                    let re = meta::Builder::new()
                        .configure(config.clone())
                        .build_from_hir(&hir)
                        .map_err(|e| build_error(id as usize, &e))?;
                    solo.push(Solo { pattern: id, gate, regex: regexes.len() as u32 });
                    regexes.push(re);
                } else {
                    set_hirs.push(hir);
                    set_patterns.push(id);
                }
            }
            let set = if set_hirs.is_empty() {
                None
            } else {
                let limit = self.builder.size_limit.saturating_mul(set_hirs.len());
                let set_config = self.meta_config(limit).match_kind(MatchKind::All);
                Some(meta::Builder::new().configure(set_config).build_many_from_hir(&set_hirs).map_err(|e| {
                    let index = set_patterns.last().map_or(0, |&i| i as usize);
                    let mut err = build_error(index, &e);
                    err.message = format!("the set of patterns without literals is too large: {}", err.message);
                    err
                })?)
            };
            Some(Fallback { set, set_patterns: set_patterns.into(), solo: solo.into() })
        };

        stats.fallback = fallback.as_ref().map_or(0, Fallback::len);
        stats.literals = lits.len();
        stats.regexes = regexes.len();
        stats.heap_bytes = regexes.iter().map(meta::Regex::memory_usage).sum::<usize>()
            + prefilter.as_ref().map_or(0, |p| {
                p.finder.memory_usage()
                    + p.lit_triggers.len() * std::mem::size_of::<Range32>()
                    + (p.triggers.len() + p.rest_offsets.len() + p.rest_sets.len() + p.set_lits.len()) * 4
            })
            + fallback.as_ref().map_or(0, |f| {
                f.set.as_ref().map_or(0, meta::Regex::memory_usage)
                    + f.set_patterns.len() * 4
                    + f.solo
                        .iter()
                        .map(|s| std::mem::size_of::<Solo>() + s.gate.as_ref().map_or(0, UtilPrefilter::memory_usage))
                        .sum::<usize>()
            })
            + confirm.len() * std::mem::size_of::<Confirm>()
            + confirm
                .iter()
                .map(|c| match c {
                    Confirm::None => 0,
                    Confirm::Prefix(b) | Confirm::Suffix(b) => b.len(),
                    Confirm::All(r) => r.len() * 4,
                    Confirm::Sequence(sc) => {
                        std::mem::size_of::<SeqConfirm>()
                            + sc.parts.iter().map(|p| p.bytes.len() + p.finder.memory_usage() + 64).sum::<usize>()
                    }
                })
                .sum::<usize>()
            + regexes.len() * std::mem::size_of::<meta::Regex>();

        Ok(LogMatcher {
            fingerprint: self.fingerprint(),
            confirm: confirm.into(),
            regexes: regexes.into(),
            prefilter,
            fallback,
            newline: UtilPrefilter::new(MatchKind::LeftmostFirst, &["\n"]),
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

/// Keeps only the sets whose alternatives are all long enough for the
/// prefilter's sampled scan, when there is one: for a pattern confirmed by
/// its own regex, extra sets only sharpen the filter, and short ones (`" to
/// /"`) cost a full-rate scan and fire often.
fn prefer_long(sets: Vec<Vec<Lit>>) -> Vec<Vec<Lit>> {
    let long = |s: &Vec<Lit>| s.iter().all(|l| l.bytes.len() >= prefilter::SAMPLED_MIN_LEN);
    if sets.iter().any(long) {
        sets.into_iter().filter(long).collect()
    } else {
        sets
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
