//! The JSON Schemas under `schema/` are generated from the types; this test
//! fails when a committed schema is stale. Regenerate with
//! `healbot schema KIND > schema/KIND.json` (or `HEALBOT_BLESS=1 cargo test --test schema`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::path::PathBuf;

use healbot_core::spec::{schema_for, DocumentKind};

fn check(name: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema").join(format!("{name}.json"));
    if std::env::var_os("HEALBOT_BLESS").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/{name}.json is stale: regenerate it with `healbot schema {name} > schema/{name}.json`"
    );
}

#[test]
fn committed_document_schemas_are_current() {
    for kind in DocumentKind::ALL {
        check(kind.as_str(), &schema_for(kind));
    }
}

#[test]
fn committed_decision_schema_is_current() {
    check("Decision", &healbot_core::decision::decision_schema());
}

#[test]
fn schemas_accept_the_bundled_examples_shape() {
    // Every schema names the envelope fields and forbids unknown ones.
    for kind in DocumentKind::ALL {
        let schema: serde_json::Value = serde_json::from_str(&schema_for(kind)).unwrap();
        let props = schema["properties"].as_object().unwrap();
        for field in ["apiVersion", "kind", "metadata", "spec"] {
            assert!(props.contains_key(field), "{kind:?} schema lacks {field}");
        }
        assert_eq!(schema["additionalProperties"], serde_json::Value::Bool(false));
    }
}
