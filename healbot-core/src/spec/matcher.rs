//! Label matchers in Alertmanager syntax: `key="v"`, `key!="v"`, `key=~"re"`, `key!~"re"`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a [`LabelMatcher`] compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchOp {
    /// `=`: equal.
    Eq,
    /// `!=`: not equal (a missing label counts as empty).
    Ne,
    /// `=~`: the whole value matches the regex.
    Re,
    /// `!~`: the whole value does not match the regex.
    NotRe,
}

impl MatchOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// One label matcher, as Alertmanager and Prometheus write them.
///
/// Matchers in a list are ANDed. Regexes are anchored at both ends, as in
/// Prometheus. A missing label behaves as the empty string.
///
/// # Example
///
/// ```
/// use healbot_core::spec::LabelMatcher;
///
/// let m: LabelMatcher = r#"code=~"5..""#.parse().unwrap();
/// assert_eq!(m.name, "code");
/// assert_eq!(m.to_string(), r#"code=~"5..""#);
/// assert!(r#"code=5"#.parse::<LabelMatcher>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelMatcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or regex, unescaped.
    pub value: String,
}

/// Why a matcher did not parse; `offset` is the byte offset in the matcher text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid label matcher `{input}`: {reason} at offset {offset}")]
pub struct MatcherError {
    /// The matcher text.
    pub input: String,
    /// What was wrong.
    pub reason: &'static str,
    /// Byte offset of the problem.
    pub offset: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

impl FromStr for LabelMatcher {
    type Err = MatcherError;

    fn from_str(input: &str) -> Result<LabelMatcher, MatcherError> {
        let err = |reason, offset| MatcherError { input: input.to_string(), reason, offset };
        let s = input.trim();
        let lead = input.len() - input.trim_start().len();
        let name_len = s
            .char_indices()
            .find(|&(i, c)| !(if i == 0 { is_name_start(c) } else { is_name_char(c) }))
            .map_or(s.len(), |(i, _)| i);
        if name_len == 0 {
            return Err(err("expected a label name", lead));
        }
        let name = &s[..name_len];
        let rest = s[name_len..].trim_start();
        let op_at = lead + (s.len() - rest.len());
        let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
            (MatchOp::Re, r)
        } else if let Some(r) = rest.strip_prefix("!~") {
            (MatchOp::NotRe, r)
        } else if let Some(r) = rest.strip_prefix("!=") {
            (MatchOp::Ne, r)
        } else if let Some(r) = rest.strip_prefix('=') {
            (MatchOp::Eq, r)
        } else {
            return Err(err("expected one of `=`, `!=`, `=~`, `!~`", op_at));
        };
        let rest = rest.trim_start();
        let quote_at = lead + (s.len() - rest.len());
        let Some(body) = rest.strip_prefix('"') else {
            return Err(err("expected a double-quoted value", quote_at));
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut closed = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c2)) => {
                        // Keep regex escapes intact: only `\"` and `\\` are string escapes.
                        if c2 != '"' && c2 != '\\' {
                            value.push('\\');
                        }
                        value.push(c2);
                    }
                    None => return Err(err("unterminated escape", quote_at + 1 + i)),
                },
                '"' => {
                    closed = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let Some(end) = closed else {
            return Err(err("unterminated quoted value", quote_at));
        };
        if !body[end + 1..].trim().is_empty() {
            return Err(err("unexpected text after the quoted value", quote_at + 2 + end));
        }
        Ok(LabelMatcher { name: name.to_string(), op, value })
    }
}

impl fmt::Display for LabelMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.op.as_str())?;
        for c in self.value.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                '\\' if matches!(self.op, MatchOp::Eq | MatchOp::Ne) => f.write_str("\\\\")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

impl Serialize for LabelMatcher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LabelMatcher {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LabelMatcher, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for LabelMatcher {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LabelMatcher".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^\\s*[A-Za-z_][A-Za-z0-9_.]*\\s*(=|!=|=~|!~)\\s*\".*\"\\s*$",
            "description": "An Alertmanager-style label matcher: key=\"v\", key!=\"v\", key=~\"re\" or key!~\"re\"."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_operator() {
        let m: LabelMatcher = r#"env!="prod""#.parse().unwrap();
        assert_eq!((m.op, m.value.as_str()), (MatchOp::Ne, "prod"));
        let m: LabelMatcher = r#" job !~ "node.*" "#.parse().unwrap();
        assert_eq!((m.name.as_str(), m.op, m.value.as_str()), ("job", MatchOp::NotRe, "node.*"));
        let m: LabelMatcher = r#"msg="say \"hi\"""#.parse().unwrap();
        assert_eq!(m.value, "say \"hi\"");
        let m: LabelMatcher = r#"path=~"a\.b""#.parse().unwrap();
        assert_eq!(m.value, r"a\.b");
    }

    #[test]
    fn reports_where_a_matcher_is_wrong() {
        assert_eq!(r#"=x"#.parse::<LabelMatcher>().unwrap_err().offset, 0);
        assert_eq!(r#"env~"x""#.parse::<LabelMatcher>().unwrap_err().offset, 3);
        assert_eq!(r#"env=x"#.parse::<LabelMatcher>().unwrap_err().offset, 4);
        assert!(r#"env="x"#.parse::<LabelMatcher>().is_err());
        assert!(r#"env="x" y"#.parse::<LabelMatcher>().is_err());
    }

    proptest! {
        #[test]
        fn display_round_trips(
            name in "[a-z_][a-z0-9_]{0,8}",
            op in prop::sample::select(vec![MatchOp::Eq, MatchOp::Ne, MatchOp::Re, MatchOp::NotRe]),
            value in "[ -~]{0,12}",
        ) {
            // Regex values keep backslashes verbatim, so a lone trailing backslash
            // cannot be expressed there; Prometheus has the same rule.
            prop_assume!(matches!(op, MatchOp::Eq | MatchOp::Ne) || !value.contains('\\'));
            let m = LabelMatcher { name, op, value };
            let parsed: LabelMatcher = m.to_string().parse().unwrap();
            prop_assert_eq!(parsed, m);
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<LabelMatcher>();
        }
    }
}
