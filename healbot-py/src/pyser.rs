//! A serde `Serializer` that builds Python objects directly (dict, list,
//! str, int, float, bool, None), for `to_dict()`, `stats()` and the like.
//!
//! It gives exactly what `json.loads(serde_json::to_string(value))` would,
//! without the intermediate JSON: non-finite floats become None, map keys
//! become strings, enums are externally tagged.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde::ser::{self, Serialize};

/// A Python error, or a serde error raised while serialising.
#[derive(Debug)]
pub enum Error {
    Python(PyErr),
    Serde(String),
}

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Python(e) => write!(f, "{e}"),
            Error::Serde(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Error {
        Error::Serde(msg.to_string())
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Error {
        match never {}
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Error {
        Error::Python(e)
    }
}

/// Python strings of struct field names, by the address of the (static)
/// name: every `to_dict()` uses the same few dozen keys, so each is made
/// (and hashed) once.
type KeyCache = HashMap<(usize, usize), Py<PyString>>;

static KEYS: Mutex<Option<KeyCache>> = Mutex::new(None);

/// `value` as Python objects.
pub fn to_object<'py, T: Serialize + ?Sized>(py: Python<'py>, value: &T) -> Result<Bound<'py, PyAny>, Error> {
    // Only tried: a finaliser run by the garbage collector in the middle of
    // a conversion may convert something else, without the cache.
    match KEYS.try_lock() {
        Ok(mut guard) => {
            let keys = RefCell::new(guard.get_or_insert_with(HashMap::new));
            value.serialize(Ser { py, keys: Some(&keys) })
        }
        Err(_) => value.serialize(Ser { py, keys: None }),
    }
}

/// The serializer: one value to one Python object.
#[derive(Clone, Copy)]
struct Ser<'a, 'py> {
    py: Python<'py>,
    keys: Option<&'a RefCell<&'a mut KeyCache>>,
}

impl<'py> Ser<'_, 'py> {
    /// The key `name` (a struct field name), from the cache when there is one.
    fn key(self, name: &'static str) -> Bound<'py, PyString> {
        let Some(cache) = self.keys else { return PyString::new(self.py, name) };
        let Ok(mut cache) = cache.try_borrow_mut() else { return PyString::new(self.py, name) };
        let at = (name.as_ptr() as usize, name.len());
        cache.entry(at).or_insert_with(|| PyString::intern(self.py, name).unbind()).bind(self.py).clone()
    }
}

type Out<'py> = Result<Bound<'py, PyAny>, Error>;

impl<'py> Ser<'_, 'py> {
    fn float(self, v: f64) -> Out<'py> {
        // As JSON: NaN and the infinities have no number, they are null.
        Ok(if v.is_finite() { v.into_pyobject(self.py)?.into_any() } else { self.py.None().into_bound(self.py) })
    }

    fn tagged(self, variant: &'static str, value: Bound<'py, PyAny>) -> Out<'py> {
        let dict = PyDict::new(self.py);
        dict.set_item(PyString::new(self.py, variant), value)?;
        Ok(dict.into_any())
    }
}

impl<'a, 'py> ser::Serializer for Ser<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = Seq<'a, 'py>;
    type SerializeTuple = Seq<'a, 'py>;
    type SerializeTupleStruct = Seq<'a, 'py>;
    type SerializeTupleVariant = Seq<'a, 'py>;
    type SerializeMap = Map<'a, 'py>;
    type SerializeStruct = Map<'a, 'py>;
    type SerializeStructVariant = Map<'a, 'py>;

    fn serialize_bool(self, v: bool) -> Out<'py> {
        Ok(pyo3::types::PyBool::new(self.py, v).to_owned().into_any())
    }
    fn serialize_i8(self, v: i8) -> Out<'py> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Out<'py> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Out<'py> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Out<'py> {
        Ok(v.into_pyobject(self.py)?.into_any())
    }
    fn serialize_i128(self, v: i128) -> Out<'py> {
        Ok(v.into_pyobject(self.py)?.into_any())
    }
    fn serialize_u8(self, v: u8) -> Out<'py> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Out<'py> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Out<'py> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Out<'py> {
        Ok(v.into_pyobject(self.py)?.into_any())
    }
    fn serialize_u128(self, v: u128) -> Out<'py> {
        Ok(v.into_pyobject(self.py)?.into_any())
    }
    fn serialize_f32(self, v: f32) -> Out<'py> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Out<'py> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Out<'py> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Out<'py> {
        Ok(PyString::new(self.py, v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> Out<'py> {
        // As serde_json: an array of numbers.
        Ok(PyList::new(self.py, v)?.into_any())
    }
    fn serialize_none(self) -> Out<'py> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Out<'py> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Out<'py> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Out<'py> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Out<'py> {
        let inner = value.serialize(self)?;
        self.tagged(variant, inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'a, 'py>, Error> {
        Ok(Seq { ser: self, items: Vec::with_capacity(len.unwrap_or(0)), variant: None })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a, 'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a, 'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'a, 'py>, Error> {
        Ok(Seq { ser: self, items: Vec::with_capacity(len), variant: Some(variant) })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a, 'py>, Error> {
        Ok(Map { ser: self, dict: PyDict::new(self.py), key: None, variant: None })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Map<'a, 'py>, Error> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Map<'a, 'py>, Error> {
        Ok(Map { ser: self, dict: PyDict::new(self.py), key: None, variant: Some(variant) })
    }
}

/// A list being built (a tagged one for tuple variants).
pub struct Seq<'a, 'py> {
    ser: Ser<'a, 'py>,
    items: Vec<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'a, 'py> Seq<'a, 'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.items.push(value.serialize(self.ser)?);
        Ok(())
    }

    fn finish(self) -> Out<'py> {
        let list = PyList::new(self.ser.py, self.items)?.into_any();
        match self.variant {
            Some(v) => self.ser.tagged(v, list),
            None => Ok(list),
        }
    }
}

/// The four list-like serde traits differ only in the name of the method
/// that adds an item; each forwards to `Seq::push` and `Seq::finish`.
macro_rules! seq_impl {
    ($trait:ident, $add:ident) => {
        impl<'a, 'py> ser::$trait for Seq<'a, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Out<'py> {
                self.finish()
            }
        }
    };
}

seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

/// A dict being built (a tagged one for struct variants).
pub struct Map<'a, 'py> {
    ser: Ser<'a, 'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'a, 'py> Map<'a, 'py> {
    fn finish(self) -> Out<'py> {
        match self.variant {
            Some(v) => self.ser.tagged(v, self.dict.into_any()),
            None => Ok(self.dict.into_any()),
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let value = value.serialize(self.ser)?;
        self.dict.set_item(self.ser.key(key), value)?;
        Ok(())
    }
}

/// A map key as JSON has it: a string (numbers and booleans spelled out).
fn json_key<'py>(key: Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>, Error> {
    use pyo3::types::{PyBool, PyFloat, PyInt};
    if key.is_instance_of::<PyString>() {
        Ok(key)
    } else if let Ok(b) = key.cast::<PyBool>() {
        Ok(PyString::new(key.py(), if b.is_true() { "true" } else { "false" }).into_any())
    } else if key.is_instance_of::<PyInt>() || key.is_instance_of::<PyFloat>() {
        Ok(key.str()?.into_any())
    } else {
        Err(Error::Serde("a map key must be a string, a number or a boolean".to_string()))
    }
}

impl<'a, 'py> ser::SerializeMap for Map<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(json_key(key.serialize(self.ser)?)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| Error::Serde("a map value without a key".to_string()))?;
        self.dict.set_item(key, value.serialize(self.ser)?)?;
        Ok(())
    }
    fn end(self) -> Out<'py> {
        self.finish()
    }
}

/// Structs and struct variants are built alike; each forwards to
/// `Map::field` and `Map::finish`.
macro_rules! struct_impl {
    ($trait:ident) => {
        impl<'a, 'py> ser::$trait for Map<'a, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Out<'py> {
                self.finish()
            }
        }
    };
}

struct_impl!(SerializeStruct);
struct_impl!(SerializeStructVariant);
