//! A serde `Deserializer` over [`Node`]s whose errors become [`Diagnostic`]s
//! with the kind, line, column and path of the innermost offending node.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor,
};

use super::yaml::parse_int_text;
use super::{key_text, push_index, push_key, Node, Span, Value};
use crate::diagnostic::{did_you_mean, Diagnostic, DiagnosticKind};

/// Deserializes a `T` from `node`.
///
/// `file` names the source in diagnostics; `path` is the node's own path in
/// the document (empty for a document root) and prefixes every error path.
///
/// Errors carry the position of the innermost offending node and a kind:
///
/// | problem | kind | where |
/// |---|---|---|
/// | a key the type does not have (`deny_unknown_fields`) | [`DiagnosticKind::UnknownField`], with the allowed fields and a "did you mean" | the key |
/// | a required field absent | [`DiagnosticKind::MissingField`] | the map |
/// | a list where a string belongs, and the like | [`DiagnosticKind::InvalidType`], with `expected` and `found` | the value |
/// | an unknown enum variant, a number out of range | [`DiagnosticKind::InvalidValue`] | the value (the key for `{variant: ...}`) |
/// | a malformed duration | [`DiagnosticKind::InvalidDuration`] | the value |
/// | any other error a type reports | [`DiagnosticKind::InvalidValue`] | the value |
///
/// What the deserializer accepts:
///
/// - strings from quoted scalars, and from unquoted scalars of any type but
///   null as their source text (`version: 1` is `"1"`);
/// - integers from integer nodes, range-checked; floats from floats and integers;
/// - `Option`: null is `None`;
/// - enums, externally tagged: a string for a unit variant, or a map with one
///   key `{variant: value}` for newtype, tuple and struct variants (a unit
///   variant also accepts `{variant: null}`);
/// - `deserialize_any` yields the node's natural type, so `serde_json::Value`
///   works. Internally tagged and untagged enums and `#[serde(flatten)]` go
///   through it and report errors inside them at the enclosing node.
///
/// # Example
///
/// ```
/// use healbot_core::source::{parse_yaml, from_node, Budget};
/// use healbot_core::{Duration, DiagnosticKind};
///
/// #[derive(serde::Deserialize, Debug)]
/// struct Check { window: Duration }
///
/// let (docs, _) = parse_yaml("c.yaml", "checks:\n  - window: 5x\n", &Budget::default());
/// let node = docs[0].at_path("checks[0]").unwrap();
/// let err = from_node::<Check>("c.yaml", node, "checks[0]").unwrap_err();
/// assert_eq!(err.kind, DiagnosticKind::InvalidDuration);
/// assert_eq!((err.line, err.column, err.path.as_str()), (2, 13, "checks[0].window"));
/// ```
// The signature is the module's contract: diagnostics are the crate's error currency.
#[allow(clippy::result_large_err)]
pub fn from_node<T: DeserializeOwned>(file: &str, node: &Node, path: &str) -> Result<T, Diagnostic> {
    let root = Path::Root(path);
    T::deserialize(NodeDe { node, path: &root }).map_err(|e| e.into_diagnostic(file, node, path))
}

/// Where a node sits: a linked list of segments up to the caller's prefix,
/// rendered only when an error needs it.
enum Path<'p> {
    Root(&'p str),
    Key(&'p Path<'p>, &'p Node),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = self;
        let root = loop {
            match cur {
                Path::Root(prefix) => break *prefix,
                Path::Key(parent, key) => {
                    segs.push(Ok(key_text(key).unwrap_or("?")));
                    cur = parent;
                }
                Path::Index(parent, i) => {
                    segs.push(Err(*i));
                    cur = parent;
                }
            }
        };
        let mut out = root.to_string();
        for seg in segs.into_iter().rev() {
            match seg {
                Ok(key) => push_key(&mut out, key),
                Err(i) => push_index(&mut out, i),
            }
        }
        out
    }
}

/// The deserializer's error: a diagnostic without a file, located at the
/// innermost node that saw it.
#[derive(Debug)]
pub(crate) struct Error(Box<ErrorInner>);

#[derive(Debug)]
struct ErrorInner {
    kind: DiagnosticKind,
    message: String,
    expected: Option<String>,
    found: Option<String>,
    suggestion: Option<String>,
    at: Option<(Span, String)>,
}

impl Error {
    fn new(kind: DiagnosticKind, message: impl Into<String>) -> Error {
        Error(Box::new(ErrorInner {
            kind,
            message: message.into(),
            expected: None,
            found: None,
            suggestion: None,
            at: None,
        }))
    }

    fn wrong_type(expected: impl Into<String>, found: impl Into<String>) -> Error {
        let mut e = Error::new(DiagnosticKind::InvalidType, "the value has the wrong type");
        e.0.expected = Some(expected.into());
        e.0.found = Some(found.into());
        e
    }

    fn expected(mut self, expected: impl Into<String>) -> Error {
        self.0.expected = Some(expected.into());
        self
    }

    fn found(mut self, found: impl Into<String>) -> Error {
        self.0.found = Some(found.into());
        self
    }

    fn into_diagnostic(self, file: &str, root: &Node, path: &str) -> Diagnostic {
        let e = *self.0;
        let (span, path) = e.at.unwrap_or_else(|| (root.span, path.to_string()));
        Diagnostic {
            expected: e.expected,
            found: e.found,
            suggestion: e.suggestion,
            ..Diagnostic::error(e.kind, file, span.line, span.column, path, e.message)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if let Some(e) = &self.0.expected {
            write!(f, "; expected {e}")?;
        }
        if let Some(found) = &self.0.found {
            write!(f, ", found {found}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing (there are no names to choose from)".to_string(),
        [one] => format!("`{one}`"),
        _ => {
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", list.join(", "))
        }
    }
}

fn unexpected_name(u: &Unexpected<'_>) -> String {
    match u {
        Unexpected::Bool(_) => "a boolean".to_string(),
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer".to_string(),
        Unexpected::Float(_) => "a number".to_string(),
        Unexpected::Char(_) | Unexpected::Str(_) => "a string".to_string(),
        Unexpected::Bytes(_) => "bytes".to_string(),
        Unexpected::Unit => "null".to_string(),
        Unexpected::Option => "an optional value".to_string(),
        Unexpected::NewtypeStruct => "a newtype struct".to_string(),
        Unexpected::Seq => "a list".to_string(),
        Unexpected::Map => "a map".to_string(),
        Unexpected::Enum
        | Unexpected::UnitVariant
        | Unexpected::NewtypeVariant
        | Unexpected::TupleVariant
        | Unexpected::StructVariant => "an enum variant".to_string(),
        Unexpected::Other(other) => (*other).to_string(),
    }
}

fn expected_name(exp: &dyn de::Expected) -> String {
    let text = exp.to_string();
    match text.as_str() {
        "a sequence" => "a list".to_string(),
        _ => text,
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        let message = msg.to_string();
        let kind = if message.starts_with("invalid duration") {
            DiagnosticKind::InvalidDuration
        } else {
            DiagnosticKind::InvalidValue
        };
        Error::new(kind, message)
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Error {
        Error::wrong_type(expected_name(exp), unexpected_name(&unexp))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Error {
        Error::new(DiagnosticKind::InvalidValue, format!("invalid value: {unexp}"))
            .expected(expected_name(exp))
            .found(unexpected_name(&unexp))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Error {
        Error::new(DiagnosticKind::InvalidValue, format!("wrong number of items: found {len}"))
            .expected(expected_name(exp))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Error {
        let mut e =
            Error::new(DiagnosticKind::InvalidValue, format!("unknown variant `{variant}`")).expected(one_of(expected));
        e.0.suggestion = did_you_mean(variant, expected.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Error {
        let mut e = Error::new(DiagnosticKind::UnknownField, format!("unknown field `{field}`"));
        e.0.expected = Some(if expected.is_empty() { "no fields".to_string() } else { one_of(expected) });
        e.0.suggestion = did_you_mean(field, expected.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        e
    }

    fn missing_field(field: &'static str) -> Error {
        Error::new(DiagnosticKind::MissingField, format!("missing field `{field}`"))
            .expected(format!("a field `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> Error {
        Error::new(DiagnosticKind::InvalidValue, format!("the field `{field}` is given more than once"))
    }
}

/// A deserializer for one node at one path.
#[derive(Clone, Copy)]
struct NodeDe<'de, 'p> {
    node: &'de Node,
    path: &'p Path<'p>,
}

type Res<T> = Result<T, Error>;

impl<'de> NodeDe<'de, '_> {
    /// Attaches this node's position to an error that has none yet.
    fn locate(self, mut e: Error) -> Error {
        if e.0.at.is_none() {
            e.0.at = Some((self.node.span, self.path.render()));
        }
        e
    }

    fn wrong_type(self, expected: &str) -> Error {
        Error::wrong_type(expected, self.node.type_name())
    }

    /// The integer in this node, when it holds one (including integers too
    /// large for `i64`, read back from their source text).
    fn integer(self) -> Res<i128> {
        match &self.node.value {
            Value::Int(i) => Ok(i128::from(*i)),
            Value::Float(_) => {
                self.node.raw.as_deref().and_then(parse_int_text).ok_or_else(|| self.wrong_type("an integer"))
            }
            _ => Err(self.wrong_type("an integer")),
        }
    }

    fn ranged<T: TryFrom<i128>>(self, min: impl fmt::Display, max: impl fmt::Display) -> Res<T> {
        let i = self.integer()?;
        T::try_from(i).map_err(|_| {
            Error::new(DiagnosticKind::InvalidValue, format!("the integer `{i}` is out of range"))
                .expected(format!("an integer from {min} to {max}"))
                .found(i.to_string())
        })
    }

    fn float(self) -> Res<f64> {
        match &self.node.value {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            _ => Err(self.wrong_type("a number")),
        }
    }

    fn text<V: Visitor<'de>>(self, visitor: V, expected: &str) -> Res<V::Value> {
        match &self.node.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Null | Value::Seq(_) | Value::Map(_) => Err(self.wrong_type(expected)),
            Value::Bool(b) => match &self.node.raw {
                Some(raw) => visitor.visit_borrowed_str(raw),
                None => visitor.visit_string(b.to_string()),
            },
            Value::Int(i) => match &self.node.raw {
                Some(raw) => visitor.visit_borrowed_str(raw),
                None => visitor.visit_string(i.to_string()),
            },
            Value::Float(f) => match &self.node.raw {
                Some(raw) => visitor.visit_borrowed_str(raw),
                None => visitor.visit_string(f.to_string()),
            },
        }
    }

    fn seq<V: Visitor<'de>>(self, visitor: V, len: Option<usize>) -> Res<V::Value> {
        let Value::Seq(items) = &self.node.value else {
            let expected = match len {
                Some(n) => format!("a list of {n} items"),
                None => "a list".to_string(),
            };
            return Err(self.wrong_type(&expected));
        };
        let mut access = SeqDe { items, next: 0, path: self.path };
        let value = visitor.visit_seq(&mut access)?;
        if access.next < items.len() {
            let expected = match len {
                Some(n) => format!("a list of {n} items"),
                None => format!("at most {} items", access.next),
            };
            return Err(Error::new(
                DiagnosticKind::InvalidValue,
                format!("the list has too many items ({})", items.len()),
            )
            .expected(expected));
        }
        Ok(value)
    }

    fn map<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        let Value::Map(entries) = &self.node.value else {
            return Err(self.wrong_type("a map"));
        };
        visitor.visit_map(MapDe { entries, next: 0, path: self.path })
    }

    fn any<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Seq(_) => self.seq(visitor, None),
            Value::Map(_) => self.map(visitor),
        }
    }

    fn enumeration<V: Visitor<'de>>(self, variants: &'static [&'static str], visitor: V) -> Res<V::Value> {
        match &self.node.value {
            Value::Map(entries) => match entries.as_slice() {
                [(key, value)] => visitor.visit_enum(EnumDe { key, value: Some(value), path: self.path }),
                _ => Err(Error::new(
                    DiagnosticKind::InvalidValue,
                    format!("expected a map with exactly one key naming the variant, found {} keys", entries.len()),
                )
                .expected(format!("{} (a name, or a map with one of them as its only key)", one_of(variants)))
                .found(format!("a map with {} keys", entries.len()))),
            },
            Value::String(_) | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                visitor.visit_enum(EnumDe { key: self.node, value: None, path: self.path })
            }
            Value::Null | Value::Seq(_) => {
                Err(self
                    .wrong_type(&format!("{} (a name, or a map with one of them as its only key)", one_of(variants))))
            }
        }
    }
}

macro_rules! int_methods {
    ($($method:ident $visit:ident $ty:ty;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
                let v: $ty = self.ranged(<$ty>::MIN, <$ty>::MAX).map_err(|e| self.locate(e))?;
                visitor.$visit(v).map_err(|e| self.locate(e))
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.any(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.node.value {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.wrong_type("a boolean (`true` or `false`)")),
        }
        .map_err(|e| self.locate(e))
    }

    int_methods! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        let v: u128 = self.ranged(0, i128::MAX).map_err(|e| self.locate(e))?;
        visitor.visit_u128(v).map_err(|e| self.locate(e))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.float().and_then(|f| visitor.visit_f32(f as f32)).map_err(|e| self.locate(e))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.float().and_then(|f| visitor.visit_f64(f)).map_err(|e| self.locate(e))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.text(visitor, "a single character").map_err(|e| self.locate(e))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.text(visitor, "a string").map_err(|e| self.locate(e))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.text(visitor, "a string").map_err(|e| self.locate(e))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.node.value {
            Value::Seq(_) => self.seq(visitor, None),
            _ => self.text(visitor, "a string"),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        match self.node.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.wrong_type("null")),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Res<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Res<V::Value> {
        visitor.visit_newtype_struct(self).map_err(|e| self.locate(e))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.seq(visitor, None).map_err(|e| self.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Res<V::Value> {
        self.seq(visitor, Some(len)).map_err(|e| self.locate(e))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _name: &'static str, len: usize, visitor: V) -> Res<V::Value> {
        self.seq(visitor, Some(len)).map_err(|e| self.locate(e))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.map(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Res<V::Value> {
        self.map(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Res<V::Value> {
        self.enumeration(variants, visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        self.text(visitor, "a name").map_err(|e| self.locate(e))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Res<V::Value> {
        visitor.visit_unit().map_err(|e| self.locate(e))
    }
}

struct SeqDe<'de, 'p> {
    items: &'de [Node],
    next: usize,
    path: &'p Path<'p>,
}

impl<'de> SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Res<Option<T::Value>> {
        let Some(node) = self.items.get(self.next) else {
            return Ok(None);
        };
        let path = Path::Index(self.path, self.next);
        self.next += 1;
        let de = NodeDe { node, path: &path };
        // Locate here too: a type may fail after the node's own method returned.
        seed.deserialize(de).map(Some).map_err(|e| de.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len().saturating_sub(self.next))
    }
}

struct MapDe<'de, 'p> {
    entries: &'de [(Node, Node)],
    next: usize,
    path: &'p Path<'p>,
}

impl<'de> MapAccess<'de> for MapDe<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Res<Option<K::Value>> {
        let Some((key, _)) = self.entries.get(self.next) else {
            return Ok(None);
        };
        let path = Path::Key(self.path, key);
        seed.deserialize(NodeDe { node: key, path: &path }).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Res<V::Value> {
        let Some((key, value)) = self.entries.get(self.next) else {
            return Err(Error::new(DiagnosticKind::InvalidValue, "a map value was requested before its key"));
        };
        self.next += 1;
        let path = Path::Key(self.path, key);
        let de = NodeDe { node: value, path: &path };
        seed.deserialize(de).map_err(|e| de.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len().saturating_sub(self.next))
    }
}

/// An enum written as a name (`value` is `None`, `key` is the name node) or as
/// a map with one key `{name: value}`.
struct EnumDe<'de, 'p> {
    key: &'de Node,
    value: Option<&'de Node>,
    path: &'p Path<'p>,
}

impl<'de, 'p> EnumAccess<'de> for EnumDe<'de, 'p> {
    type Error = Error;
    type Variant = EnumDe<'de, 'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Res<(V::Value, Self::Variant)> {
        let v = match self.value {
            Some(_) => {
                let path = Path::Key(self.path, self.key);
                let de = NodeDe { node: self.key, path: &path };
                seed.deserialize(de).map_err(|e| de.locate(e))?
            }
            None => {
                let de = NodeDe { node: self.key, path: self.path };
                seed.deserialize(de).map_err(|e| de.locate(e))?
            }
        };
        Ok((v, self))
    }
}

impl<'de> EnumDe<'de, '_> {
    fn name(&self) -> &str {
        key_text(self.key).unwrap_or("?")
    }

    /// The error for a variant that needs a value but was written as a bare name.
    fn needs_value(&self) -> Error {
        let name = self.name();
        let mut e = Error::wrong_type(format!("a map `{name}: ...` with the variant's value"), "a bare name");
        e.0.message = format!("the variant `{name}` needs a value");
        NodeDe { node: self.key, path: self.path }.locate(e)
    }

    fn with_value<T>(self, f: impl FnOnce(NodeDe<'de, '_>) -> Res<T>) -> Res<T> {
        let Some(value) = self.value else {
            return Err(self.needs_value());
        };
        let path = Path::Key(self.path, self.key);
        let de = NodeDe { node: value, path: &path };
        f(de).map_err(|e| de.locate(e))
    }
}

impl<'de> VariantAccess<'de> for EnumDe<'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Res<()> {
        match self.value {
            None => Ok(()),
            Some(v) if v.is_null() => Ok(()),
            Some(v) => {
                let name = self.name().to_string();
                let path = Path::Key(self.path, self.key);
                let mut e = Error::wrong_type("null", v.type_name());
                e.0.message = format!("the variant `{name}` takes no value");
                Err(NodeDe { node: v, path: &path }.locate(e))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Res<T::Value> {
        self.with_value(|de| seed.deserialize(de))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Res<V::Value> {
        self.with_value(|de| de::Deserializer::deserialize_tuple(de, len, visitor))
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Res<V::Value> {
        self.with_value(|de| de::Deserializer::deserialize_struct(de, "", fields, visitor))
    }
}
