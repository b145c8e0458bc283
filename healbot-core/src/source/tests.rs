//! Tests for the source module.
