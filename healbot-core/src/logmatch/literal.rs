//! Required-literal extraction from a regex HIR.
//!
//! `regex-syntax`'s own `Extractor` finds prefix and suffix literals; a log
//! template such as `.*? Served block blk_.*? to /.*?` has neither, only
//! *inner* literals. This walker computes, for every HIR node:
//!
//! - `exact`: when the node matches exactly one of a small, finite set of
//!   strings, that set;
//! - `required`: a small set of strings at least one of which occurs in every
//!   match of the node (the best one found, by [`score`]).
//!
//! Case-insensitive letters are kept as literals only when their whole case
//! fold is ASCII (`[Ee]`), so an ASCII case-insensitive Aho-Corasick search
//! finds them; `k` and `s` (whose folds include U+212A KELVIN SIGN and U+017F
//! LONG S) and non-ASCII letters end a literal instead. Every bound below
//! keeps the work and memory proportional to the pattern's size.

use regex_syntax::hir::{Class, Hir, HirKind};

/// The most alternatives a literal set may hold.
const MAX_LITS: usize = 16;
/// The longest literal kept, in bytes.
const MAX_LIT_LEN: usize = 48;
/// The largest class expanded into alternatives.
const MAX_CLASS_CHARS: u32 = 4;
/// The largest fixed repetition count expanded (`a{3}` → `aaa`).
const MAX_REPEAT_EXPAND: u32 = 8;
/// The shortest literal worth a prefilter entry.
const MIN_USABLE_LEN: usize = 2;

/// One literal alternative.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Lit {
    /// The bytes; ASCII letters that match either case are lowercase.
    pub(crate) bytes: Vec<u8>,
    /// Some ASCII letter matches either case.
    pub(crate) folded: bool,
    /// Some ASCII letter must match exactly as written.
    pub(crate) strict_letters: bool,
}

impl Lit {
    fn empty() -> Lit {
        Lit { bytes: Vec::new(), folded: false, strict_letters: false }
    }

    fn exact(bytes: &[u8]) -> Lit {
        Lit { bytes: bytes.to_vec(), folded: false, strict_letters: bytes.iter().any(u8::is_ascii_alphabetic) }
    }

    fn folded_letter(lower: u8) -> Lit {
        Lit { bytes: vec![lower], folded: true, strict_letters: false }
    }

    fn concat(&self, other: &Lit) -> Lit {
        let mut bytes = Vec::with_capacity(self.bytes.len() + other.bytes.len());
        bytes.extend_from_slice(&self.bytes);
        bytes.extend_from_slice(&other.bytes);
        Lit { bytes, folded: self.folded || other.folded, strict_letters: self.strict_letters || other.strict_letters }
    }

    /// Whether an occurrence found by the prefilter (after the exact-bytes
    /// check for strict literals) proves this literal occurs. Mixed literals
    /// (some letters folded, some strict) are searched fully folded, so a hit
    /// is only a candidate.
    pub(crate) fn is_proof(&self) -> bool {
        !(self.folded && self.strict_letters)
    }
}

/// What the walker knows about one HIR node.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extract {
    /// The node matches exactly one of these strings (a look-around matches
    /// the empty string here; see `has_look`).
    pub(crate) exact: Option<Vec<Lit>>,
    /// Every match of the node contains one of these.
    pub(crate) required: Option<Vec<Lit>>,
    /// The node contains a look-around assertion (`^`, `$`, `\b`), so
    /// `exact` is necessary but not sufficient.
    pub(crate) has_look: bool,
}

impl Extract {
    fn exact(lits: Vec<Lit>) -> Extract {
        Extract { exact: Some(lits), required: None, has_look: false }
    }

    /// The best usable set this node guarantees: its exact set or its
    /// required set.
    pub(crate) fn best(&self) -> Option<&Vec<Lit>> {
        better(self.exact.as_ref().filter(|s| usable(s)), self.required.as_ref().filter(|s| usable(s)))
    }
}

/// Whether a set is worth a prefilter entry: non-empty, small, and every
/// alternative long enough not to fire on every line.
pub(crate) fn usable(set: &[Lit]) -> bool {
    !set.is_empty() && set.len() <= MAX_LITS && set.iter().all(|l| l.bytes.len() >= MIN_USABLE_LEN)
}

/// How selective a literal is likely to be in log text: rarer bytes weigh
/// more. Higher is better.
fn lit_score(lit: &Lit) -> u32 {
    lit.bytes
        .iter()
        .map(|&b| match b {
            b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'0'..=b'9' => 2,
            b'.' | b':' | b'/' | b'-' | b'_' | b'=' | b',' | b'[' | b']' => 2,
            b'a'..=b'z' => 3,
            b'A'..=b'Z' => 4,
            _ => 4,
        })
        .sum()
}

/// The score of a set: its weakest alternative, less a penalty for many
/// alternatives.
pub(crate) fn score(set: &[Lit]) -> i64 {
    let weakest = set.iter().map(lit_score).min().unwrap_or(0);
    i64::from(weakest) - 2 * i64::from(usize::BITS - set.len().leading_zeros())
}

fn better<'a>(a: Option<&'a Vec<Lit>>, b: Option<&'a Vec<Lit>>) -> Option<&'a Vec<Lit>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(b) > score(a) { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

fn keep_better(best: &mut Option<Vec<Lit>>, candidate: Option<&Vec<Lit>>) {
    let Some(candidate) = candidate.filter(|c| usable(c)) else {
        return;
    };
    let replace = match best {
        Some(current) => score(candidate) > score(current),
        None => true,
    };
    if replace {
        *best = Some(candidate.clone());
    }
}

fn normalize(mut set: Vec<Lit>) -> Vec<Lit> {
    set.sort();
    set.dedup();
    set
}

/// The cross product of two sets, or `None` when it would exceed the bounds.
fn cross(a: &[Lit], b: &[Lit]) -> Option<Vec<Lit>> {
    if a.len().saturating_mul(b.len()) > MAX_LITS {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            if x.bytes.len() + y.bytes.len() > MAX_LIT_LEN {
                return None;
            }
            out.push(x.concat(y));
        }
    }
    Some(normalize(out))
}

fn union(sets: impl Iterator<Item = Option<Vec<Lit>>>) -> Option<Vec<Lit>> {
    let mut out = Vec::new();
    for set in sets {
        out.extend(set?);
        if out.len() > MAX_LITS * 2 {
            return None;
        }
    }
    let out = normalize(out);
    (out.len() <= MAX_LITS).then_some(out)
}

fn class_lits(class: &Class) -> Option<Vec<Lit>> {
    let chars: Vec<Vec<u8>> = match class {
        Class::Unicode(c) => {
            let mut count: u32 = 0;
            for r in c.ranges() {
                count = count.saturating_add(u32::from(r.end()) - u32::from(r.start()) + 1);
            }
            if count == 0 || count > MAX_CLASS_CHARS {
                return None;
            }
            c.iter()
                .flat_map(|r| (u32::from(r.start())..=u32::from(r.end())).filter_map(char::from_u32))
                .map(|ch| ch.to_string().into_bytes())
                .collect()
        }
        Class::Bytes(c) => {
            let mut count: u32 = 0;
            for r in c.ranges() {
                count = count.saturating_add(u32::from(r.end()) - u32::from(r.start()) + 1);
            }
            if count == 0 || count > MAX_CLASS_CHARS {
                return None;
            }
            c.iter().flat_map(|r| r.start()..=r.end()).map(|b| vec![b]).collect()
        }
    };
    // An ASCII letter present in both cases becomes one folded literal, so
    // `[Kk\u{212A}]` is {folded `k`, KELVIN SIGN} rather than three.
    let mut out = Vec::with_capacity(chars.len());
    for c in &chars {
        if let [x] = c.as_slice() {
            if x.is_ascii_alphabetic() {
                let other = if x.is_ascii_lowercase() { x.to_ascii_uppercase() } else { x.to_ascii_lowercase() };
                if chars.iter().any(|d| d.as_slice() == [other]) {
                    out.push(Lit::folded_letter(x.to_ascii_lowercase()));
                    continue;
                }
            }
        }
        out.push(Lit::exact(c));
    }
    Some(normalize(out))
}

/// The most independent required sets kept for one pattern.
const MAX_SETS: usize = 6;

/// Every usable required set of a concatenation: each maximal run of
/// adjacent exact parts, and each inexact part's own best set. All of them
/// must occur in a match.
fn concat_sets(parts: &[Extract]) -> Vec<Vec<Lit>> {
    let mut out = Vec::new();
    let mut push = |set: &Vec<Lit>| {
        if usable(set) && !out.contains(set) {
            out.push(set.clone());
        }
    };
    let mut run = vec![Lit::empty()];
    for p in parts {
        match &p.exact {
            Some(e) => match cross(&run, e) {
                Some(next) => run = next,
                None => {
                    push(&run);
                    run = e.clone();
                }
            },
            None => {
                push(&run);
                if let Some(r) = p.best() {
                    push(r);
                }
                run = vec![Lit::empty()];
            }
        }
    }
    push(&run);
    out
}

/// Independent required sets of a whole pattern, best first: a line the
/// pattern matches contains an alternative of *every* set. At most
/// [`MAX_SETS`]; empty when the pattern has no usable literal.
pub(crate) fn required_sets(hir: &Hir) -> Vec<Vec<Lit>> {
    let mut sets = match hir.kind() {
        HirKind::Capture(cap) => return required_sets(&cap.sub),
        HirKind::Concat(subs) => {
            let parts: Vec<Extract> = subs.iter().map(extract).collect();
            concat_sets(&parts)
        }
        _ => extract(hir).best().cloned().into_iter().collect(),
    };
    sets.sort_by_key(|s| std::cmp::Reverse(score(s)));
    sets.truncate(MAX_SETS);
    sets
}

/// A pattern that is case-sensitive literals separated by `.*` gaps
/// (`Served block .*? to /`), the shape of most log templates. Whether it
/// matches is decided by finding each literal, leftmost, after the previous
/// one: no regex engine needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LiteralSeq {
    pub(crate) parts: Vec<Vec<u8>>,
    pub(crate) anchored_start: bool,
    pub(crate) anchored_end: bool,
    /// Gaps match `\n` too (`(?s)`); otherwise a line holding `\n` needs
    /// the regex.
    pub(crate) dot_all: bool,
}

fn is_any_char(class: &Class) -> Option<bool> {
    let Class::Unicode(c) = class else {
        return None;
    };
    match c.ranges() {
        [r] if r.start() == '\0' && r.end() == char::MAX => Some(true),
        [a, b] if a.start() == '\0' && a.end() == '\t' && b.start() == '\x0B' && b.end() == char::MAX => Some(false),
        _ => None,
    }
}

/// Recognises a [`LiteralSeq`]; `None` for any other shape.
pub(crate) fn literal_sequence(hir: &Hir) -> Option<LiteralSeq> {
    #[derive(PartialEq)]
    enum Item<'a> {
        Lit(&'a [u8]),
        Gap(bool),
        Start,
        End,
    }
    fn item(hir: &Hir) -> Option<Vec<Item<'_>>> {
        match hir.kind() {
            HirKind::Empty => Some(Vec::new()),
            HirKind::Literal(l) => Some(vec![Item::Lit(&l.0)]),
            HirKind::Look(regex_syntax::hir::Look::Start) => Some(vec![Item::Start]),
            HirKind::Look(regex_syntax::hir::Look::End) => Some(vec![Item::End]),
            HirKind::Capture(c) => item(&c.sub),
            HirKind::Repetition(r) if r.min == 0 && r.max.is_none() => match r.sub.kind() {
                HirKind::Class(c) => is_any_char(c).map(|all| vec![Item::Gap(all)]),
                _ => None,
            },
            HirKind::Concat(subs) => {
                let mut out = Vec::new();
                for s in subs {
                    out.extend(item(s)?);
                }
                Some(out)
            }
            _ => None,
        }
    }
    let items = item(hir)?;
    let mut seq = LiteralSeq { parts: Vec::new(), anchored_start: false, anchored_end: false, dot_all: true };
    let mut gaps = 0;
    let mut last_was_lit = false;
    for (i, it) in items.iter().enumerate() {
        match it {
            Item::Start if i == 0 => seq.anchored_start = true,
            Item::End if i + 1 == items.len() => seq.anchored_end = true,
            Item::Start | Item::End => return None,
            Item::Gap(all) => {
                gaps += 1;
                seq.dot_all &= *all;
                last_was_lit = false;
            }
            Item::Lit(bytes) => {
                match seq.parts.last_mut() {
                    Some(part) if last_was_lit => part.extend_from_slice(bytes),
                    _ => seq.parts.push(bytes.to_vec()),
                }
                last_was_lit = true;
            }
        }
    }
    // An anchor only binds the literal right beside it: `^.*?:` is not
    // anchored at all.
    let inner: &[Item<'_>] = {
        let from = usize::from(seq.anchored_start);
        let to = items.len() - usize::from(seq.anchored_end);
        items.get(from..to).unwrap_or(&[])
    };
    if matches!(inner.first(), Some(Item::Gap(_))) {
        seq.anchored_start = false;
    }
    if matches!(inner.last(), Some(Item::Gap(_))) {
        seq.anchored_end = false;
    }
    // A lone literal anchored at both ends is an equality, not a sequence.
    if seq.parts.is_empty() || (gaps == 0 && seq.anchored_start && seq.anchored_end) {
        return None;
    }
    Some(seq)
}

/// Bytes that every match of `hir` contains, found in its literals
/// (case-sensitive ones only). Used to gate patterns with no usable literal:
/// `\w+@\w+` cannot match a line without `@`.
pub(crate) fn required_bytes(hir: &Hir) -> Vec<u8> {
    let mut out = match hir.kind() {
        HirKind::Literal(l) => l.0.to_vec(),
        HirKind::Capture(c) => required_bytes(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required_bytes(&r.sub),
        HirKind::Concat(subs) => subs.iter().flat_map(required_bytes).collect(),
        HirKind::Alternation(subs) => {
            let mut sets = subs.iter().map(required_bytes);
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |acc, s| acc.into_iter().filter(|b| s.contains(b)).collect())
        }
        _ => Vec::new(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Walks `hir`. Recursion depth is bounded by the parser's nest limit.
pub(crate) fn extract(hir: &Hir) -> Extract {
    match hir.kind() {
        HirKind::Empty => Extract::exact(vec![Lit::empty()]),
        HirKind::Literal(lit) => {
            if lit.0.len() > MAX_LIT_LEN {
                // Too long to be an exact alternative; any window of it is
                // still required.
                let head = Lit::exact(&lit.0[..MAX_LIT_LEN]);
                Extract { exact: None, required: Some(vec![head]), has_look: false }
            } else {
                Extract::exact(vec![Lit::exact(&lit.0)])
            }
        }
        HirKind::Class(class) => match class_lits(class) {
            Some(lits) => Extract::exact(lits),
            None => Extract::default(),
        },
        HirKind::Look(_) => Extract { exact: Some(vec![Lit::empty()]), required: None, has_look: true },
        HirKind::Capture(cap) => extract(&cap.sub),
        HirKind::Repetition(rep) => {
            let sub = extract(&rep.sub);
            let mut out = Extract { exact: None, required: None, has_look: sub.has_look };
            if rep.max == Some(rep.min) && rep.min <= MAX_REPEAT_EXPAND {
                if let Some(one) = &sub.exact {
                    let mut acc = Some(vec![Lit::empty()]);
                    for _ in 0..rep.min {
                        acc = acc.and_then(|a| cross(&a, one));
                    }
                    out.exact = acc;
                }
            }
            if rep.min >= 1 {
                let mut best = None;
                keep_better(&mut best, sub.best());
                keep_better(&mut best, out.exact.as_ref());
                out.required = best;
            }
            out
        }
        HirKind::Concat(subs) => {
            let parts: Vec<Extract> = subs.iter().map(extract).collect();
            let has_look = parts.iter().any(|p| p.has_look);
            // The whole concatenation as an exact set, when it is one.
            let mut exact = Some(vec![Lit::empty()]);
            for p in &parts {
                exact = match (exact, &p.exact) {
                    (Some(acc), Some(e)) => cross(&acc, e),
                    _ => None,
                };
            }
            // Runs of adjacent exact parts, and each inexact part's own
            // required set; keep the best.
            let mut best: Option<Vec<Lit>> = None;
            for set in concat_sets(&parts) {
                keep_better(&mut best, Some(&set));
            }
            Extract { exact, required: best, has_look }
        }
        HirKind::Alternation(subs) => {
            let parts: Vec<Extract> = subs.iter().map(extract).collect();
            let has_look = parts.iter().any(|p| p.has_look);
            let exact = union(parts.iter().map(|p| p.exact.clone()));
            let required = union(parts.iter().map(|p| p.best().cloned()));
            Extract { exact, required: required.filter(|r| usable(r)), has_look }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str, ci: bool) -> Hir {
        regex_syntax::ParserBuilder::new().case_insensitive(ci).build().parse(p).unwrap()
    }

    fn best(p: &str, ci: bool) -> Vec<String> {
        let ex = extract(&parse(p, ci));
        ex.best()
            .map(|s| s.iter().map(|l| String::from_utf8_lossy(&l.bytes).into_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn inner_literals_of_a_template() {
        assert_eq!(best(r".*?:.*? Served block blk_.*? to /.*?", false), vec![" Served block blk_"]);
    }

    #[test]
    fn every_run_of_a_template_is_required() {
        let sets = required_sets(&parse(r"(.*?):(.*?) Served block blk_.*? to /.*?", false));
        let firsts: Vec<String> = sets.iter().map(|s| String::from_utf8_lossy(&s[0].bytes).into_owned()).collect();
        assert_eq!(firsts, vec![" Served block blk_", " to /"]);
    }

    #[test]
    fn literal_sequences() {
        let seq = literal_sequence(&parse(r"^(.*?):(.*?) Served block blk_.*? to /.*?$", false)).unwrap();
        assert_eq!(seq.parts, vec![b":".to_vec(), b" Served block blk_".to_vec(), b" to /".to_vec()]);
        // The anchors sit beside gaps, so they bind nothing.
        assert!(!seq.anchored_start && !seq.anchored_end && !seq.dot_all);
        let seq = literal_sequence(&parse(r"^Received .*? of size .*?$", false)).unwrap();
        assert!(seq.anchored_start && !seq.anchored_end);
        let seq = literal_sequence(&parse(r"^.*?x.*? end$", false)).unwrap();
        assert!(!seq.anchored_start && seq.anchored_end);
        assert!(literal_sequence(&parse(r"(?s)a.*b", false)).unwrap().dot_all);
        assert!(literal_sequence(&parse(r"a.+b", false)).is_none());
        assert!(literal_sequence(&parse(r"a\d*b", false)).is_none());
        assert!(literal_sequence(&parse(r"error", true)).is_none());
        assert!(literal_sequence(&parse(r"^abc$", false)).is_none());
        assert!(literal_sequence(&parse(r"a^b", false)).is_none());
    }

    #[test]
    fn required_bytes_of_literal_free_patterns() {
        assert_eq!(required_bytes(&parse(r"\w+@\w+\.\w+", false)), b".@".to_vec());
        assert_eq!(required_bytes(&parse(r"a(?:x|yx)+", false)), b"ax".to_vec());
        assert!(required_bytes(&parse(r"\d*@", false)) == b"@".to_vec());
        assert!(required_bytes(&parse(r"(?:@)?", false)).is_empty());
    }

    #[test]
    fn alternation_of_literals_is_exact() {
        let ex = extract(&parse("foo|bar", false));
        assert_eq!(ex.exact.unwrap().len(), 2);
        assert!(!ex.has_look);
    }

    #[test]
    fn case_insensitive_letters_fold() {
        // `k` folds to KELVIN SIGN too: two alternatives per `k`.
        assert_eq!(best("kafka", true), vec!["kafka", "kaf\u{212A}a", "\u{212A}afka", "\u{212A}af\u{212A}a"]);
        assert_eq!(best("error", true), vec!["error"]);
        let ex = extract(&parse("error", true));
        assert!(ex.exact.unwrap()[0].folded);
    }

    #[test]
    fn no_literal() {
        assert!(best(r"\d+", false).is_empty());
        assert!(best(r"a?b*", false).is_empty());
        assert!(best(r"foo|\d", false).is_empty());
    }

    #[test]
    fn bounded_on_huge_repetitions() {
        assert_eq!(best(r"(?:ab){1000}", false), vec!["ab"]);
        assert_eq!(best(r"x{3}y", false), vec!["xxxy"]);
    }
}
