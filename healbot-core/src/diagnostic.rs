//! Diagnostics: what is wrong with a document, where, and what was expected.
//!
//! Loading never stops at the first problem: every diagnostic found is
//! collected, each carrying the file, line and column, the path inside the
//! document (`spec.signatures[3].match.all[1].window`), what was found, what
//! was expected and, where one is plain, a suggestion.

use std::fmt;

/// How bad a diagnostic is. Errors make a load fail; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is usable; the author may want to look.
    Warning,
    /// The document is rejected.
    Error,
}

/// The class of a diagnostic, stable across releases so tools and tests can
/// match on it. [`DiagnosticKind::code`] gives its stable spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// The text is not well-formed YAML or JSON.
    Syntax,
    /// A document exceeded a parser budget (size, depth, aliases, nodes).
    Limit,
    /// `apiVersion` or `kind` is missing or not one HealBot knows.
    Envelope,
    /// A field the grammar does not have.
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong type (a list where a string belongs).
    InvalidType,
    /// A value of the right type that is not allowed (an unknown enum variant,
    /// a number out of range, a malformed matcher).
    InvalidValue,
    /// A duration that does not parse.
    InvalidDuration,
    /// A regular expression that does not compile or is too large.
    InvalidRegex,
    /// Two items share an id.
    Duplicate,
    /// A reference to an action, signature, list, macro or node that does not exist.
    UnknownReference,
    /// A logically impossible construct: an empty condition tree, `at_least`
    /// larger than its list, a node depending on itself.
    Invalid,
    /// A window longer than the configured maximum.
    WindowTooLong,
    /// The document needs a newer engine than this one.
    EngineVersion,
    /// A well-formed construct worth a second look (a dependency cycle).
    Lint,
}

impl DiagnosticKind {
    /// The stable, kebab-case spelling of this kind (`unknown-field`).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::DiagnosticKind;
    /// assert_eq!(DiagnosticKind::UnknownField.code(), "unknown-field");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            DiagnosticKind::Syntax => "syntax",
            DiagnosticKind::Limit => "limit",
            DiagnosticKind::Envelope => "envelope",
            DiagnosticKind::UnknownField => "unknown-field",
            DiagnosticKind::MissingField => "missing-field",
            DiagnosticKind::InvalidType => "invalid-type",
            DiagnosticKind::InvalidValue => "invalid-value",
            DiagnosticKind::InvalidDuration => "invalid-duration",
            DiagnosticKind::InvalidRegex => "invalid-regex",
            DiagnosticKind::Duplicate => "duplicate",
            DiagnosticKind::UnknownReference => "unknown-reference",
            DiagnosticKind::Invalid => "invalid",
            DiagnosticKind::WindowTooLong => "window-too-long",
            DiagnosticKind::EngineVersion => "engine-version",
            DiagnosticKind::Lint => "lint",
        }
    }
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for DiagnosticKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// One problem found in a document.
///
/// Lines and columns are 1-based; a column counts characters, not bytes.
/// `path` is the location inside the document in a JSONPath-like dotted
/// form (`spec.signatures[3].match.all[1].window`); it is empty for problems
/// with the text itself.
///
/// # Example
///
/// ```
/// use healbot_core::{Diagnostic, DiagnosticKind};
///
/// let d = Diagnostic::error(DiagnosticKind::UnknownField, "lib.yaml", 7, 5,
///         "spec.signatures[0].treshold", "unknown field `treshold`")
///     .with_suggestion("did you mean `threshold`?");
/// assert_eq!(d.to_string(),
///     "lib.yaml:7:5: error[unknown-field]: unknown field `treshold` \
///      (at spec.signatures[0].treshold); did you mean `threshold`?");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The stable class of the problem.
    pub kind: DiagnosticKind,
    /// The file (or source name) the document came from.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Path inside the document.
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What the grammar expected there, when that is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found there, when that is useful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// A plain fix, when there is one (`did you mean `threshold`?`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(
        kind: DiagnosticKind,
        file: impl Into<String>,
        line: u32,
        column: u32,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            kind,
            file: file.into(),
            line,
            column,
            path: path.into(),
            message: message.into(),
            expected: None,
            found: None,
            suggestion: None,
        }
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Diagnostic {
        self.severity = Severity::Warning;
        self
    }

    /// Adds what was expected.
    pub fn with_expected(mut self, expected: impl Into<String>) -> Diagnostic {
        self.expected = Some(expected.into());
        self
    }

    /// Adds what was found.
    pub fn with_found(mut self, found: impl Into<String>) -> Diagnostic {
        self.found = Some(found.into());
        self
    }

    /// Adds a suggestion.
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Diagnostic {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// Whether this diagnostic makes a load fail.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {}[{}]: {}", self.file, self.line, self.column, sev, self.kind, self.message)?;
        if !self.path.is_empty() {
            write!(f, " (at {})", self.path)?;
        }
        if let Some(e) = &self.expected {
            write!(f, "; expected {e}")?;
        }
        if let Some(found) = &self.found {
            write!(f, ", found {found}")?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, "; {s}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `word`, when one is close enough to suggest.
///
/// # Example
///
/// ```
/// use healbot_core::diagnostic::did_you_mean;
/// assert_eq!(did_you_mean("treshold", ["threshold", "window"]), Some("threshold".to_string()));
/// assert_eq!(did_you_mean("zzz", ["threshold", "window"]), None);
/// ```
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c.to_string())
}
