//! [`Name`]: an id (of a node, a signature) shared by every diagnosis and
//! decision that names it. An evaluation of a cascade names the same few
//! hundred nodes thousands of times; cloning a `Name` is a reference count,
//! not an allocation and a copy.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// An immutable, cheaply cloned string: reads as a `str`, compares with
/// `&str` and `String`, serialises as a plain JSON string.
///
/// # Example
///
/// ```
/// use healbot_core::Name;
///
/// let a = Name::from("db-0");
/// let b = a.clone(); // shares the text
/// assert_eq!(a, "db-0");
/// assert_eq!(b.as_str(), "db-0");
/// assert!(b.starts_with("db"));
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#""db-0""#);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(Arc<str>);

impl Name {
    /// The text.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(healbot_core::Name::from("api").as_str(), "api");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Described as the string it is, inline: documents that name things by
/// `Name` have the schema they had with `String`.
impl JsonSchema for Name {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::from(s))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;

    #[test]
    fn compares_orders_and_round_trips_like_the_text() {
        let (a, b) = (Name::from("a"), Name::from(String::from("b")));
        assert!(a < b);
        assert_eq!(a, "a");
        assert_eq!("a", a);
        assert_eq!(String::from("b"), b);
        assert_eq!(b, String::from("b"));
        assert_ne!(a, "b");
        assert_eq!(format!("{a} {b:?}"), r#"a "b""#);
        let back: Name = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        assert_eq!(back, b);
        assert_eq!(String::from(back), "b");
        let mut names = vec![Name::from("b"), a.clone(), Name::from("a")];
        names.sort();
        names.dedup();
        assert_eq!(names, ["a", "b"]);
    }
}
