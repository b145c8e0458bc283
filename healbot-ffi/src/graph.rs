//! Queries on a compiled topology: nodes, dependencies, dependents, blast
//! radius, paths and shards, as the Python `Topology` has them.
//!
//! Lists of node ids come back as one JSON buffer (`["api","db"]`); a node
//! argument is a NUL-terminated id or alias, and an unknown one is
//! `HEALBOT_RESULT_INVALID_INPUT`. Results name nodes by id.

use std::ffi::{c_char, CStr};

use healbot_core::spec::NodeKind;
use healbot_core::topology::NodeId;
use healbot_core::Topology;

use crate::boundary::{guard, json_buffer, run_new, run_out, string, Failure};
use crate::buffer::healbot_buffer;
use crate::document::{healbot_topology, topology};
use crate::error::{healbot_error, healbot_result};

/// How many nodes depend on a node, transitively, and their tier weight.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct healbot_blast_radius {
    /// How many nodes depend on the node, transitively.
    pub nodes: usize,
    /// The sum of those nodes' tier weights (8, 4, 2, 1 for tiers 1 to 4).
    pub tier_weighted: f64,
}

/// The topology handle and the node named by a string argument.
///
/// # Safety
///
/// `t` is NULL or a live topology; `node` is NULL or a NUL-terminated string.
unsafe fn node_arg<'a>(
    t: *const healbot_topology,
    node: *const c_char,
    name: &str,
) -> Result<(&'a Topology, NodeId), Failure> {
    // SAFETY: per this function's contract.
    let (t, node) = unsafe { (&topology(t, "topology")?.topology, string(node, name)?) };
    let id = t.lookup(node).ok_or_else(|| Failure::invalid(format!("unknown node `{node}`")))?;
    Ok((t, id))
}

/// The ids of `nodes` as a JSON array.
fn ids_json(t: &Topology, nodes: &[NodeId]) -> Result<healbot_buffer, Failure> {
    let ids: Vec<&str> = nodes.iter().map(|&n| t.node(n).id()).collect();
    json_buffer(serde_json::to_vec(&ids), "node ids")
}

/// The static C spelling of a node kind (as in documents).
fn kind_name(kind: NodeKind) -> &'static CStr {
    match kind {
        NodeKind::Service => c"service",
        NodeKind::Database => c"database",
        NodeKind::Cache => c"cache",
        NodeKind::Queue => c"queue",
        NodeKind::Host => c"host",
        NodeKind::Pod => c"pod",
        NodeKind::LoadBalancer => c"load_balancer",
        NodeKind::External => c"external",
    }
}

/// Every node id, in the topology's node order, as a JSON array of strings
/// written to `json_out`; free it with `healbot_buffer_free`.
///
/// # Safety
///
/// `topology` is a live topology; `json_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_nodes_json(
    topology: *const healbot_topology,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let t = &unsafe { self::topology(topology, "topology") }?.topology;
        let ids: Vec<&str> = t.nodes().iter().map(|n| n.id()).collect();
        json_buffer(serde_json::to_vec(&ids), "node ids")
    })
}

/// Whether `node` names a node of the topology, by id or alias. False for
/// a NULL topology or node and for a node that is not UTF-8.
///
/// # Safety
///
/// `topology` is NULL or a live topology; `node` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_contains(topology: *const healbot_topology, node: *const c_char) -> bool {
    guard(false, || {
        // SAFETY: per this function's contract.
        unsafe { node_arg(topology, node, "node") }.is_ok()
    })
}

/// A node as a JSON object: `id`, `kind`, `tier`, `replicas`, `labels` (an
/// object), `aliases` (an array) and `shard`, written to `json_out`; free
/// it with `healbot_buffer_free`. `node` is an id or alias; an unknown one
/// is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `json_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_node_json(
    topology: *const healbot_topology,
    node: *const c_char,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        let info = t.node(n);
        let doc = serde_json::json!({
            "id": info.id(),
            "kind": info.kind().as_str(),
            "tier": info.tier(),
            "replicas": info.replicas(),
            "labels": info.labels(),
            "aliases": info.aliases(),
            "shard": t.shard_of(n).index(),
        });
        json_buffer(serde_json::to_vec(&doc), "node")
    })
}

/// A node's kind (`service`, `database`, `cache`, `queue`, `host`, `pod`,
/// `load_balancer` or `external`), a static NUL-terminated string (never
/// freed) written to `kind_out`. `node` is an id or alias; an unknown one
/// is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `kind_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_node_kind(
    topology: *const healbot_topology,
    node: *const c_char,
    kind_out: *mut *const c_char,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_out(err_out, kind_out, "kind_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        Ok(kind_name(t.node(n).kind()).as_ptr())
    })
}

/// A node's tier, 1 (most critical) to 4, written to `tier_out`. `node` is
/// an id or alias; an unknown one is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `tier_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_node_tier(
    topology: *const healbot_topology,
    node: *const c_char,
    tier_out: *mut u8,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_out(err_out, tier_out, "tier_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        Ok(t.node(n).tier())
    })
}

/// Everything `node` needs, transitively (`depends_on` and `runs_on`),
/// without `node` itself: breadth-first, nearest first, as a JSON array of
/// node ids written to `json_out`; free it with `healbot_buffer_free`.
/// `node` is an id or alias; an unknown one is
/// `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `json_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_dependencies_json(
    topology: *const healbot_topology,
    node: *const c_char,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        ids_json(t, t.dependencies(n, &mut t.traversal()))
    })
}

/// Everything that needs `node`, transitively, without `node` itself: its
/// blast radius as a list, breadth-first, nearest first, as a JSON array
/// of node ids written to `json_out`; free it with `healbot_buffer_free`.
/// `node` is an id or alias; an unknown one is
/// `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `json_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_dependents_json(
    topology: *const healbot_topology,
    node: *const c_char,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        ids_json(t, t.dependents(n, &mut t.traversal()))
    })
}

/// What `node` needs directly (`depends_on` and `runs_on`), in node order,
/// as a JSON array of node ids written to `json_out`; free it with
/// `healbot_buffer_free`. `node` is an id or alias; an unknown one is
/// `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `json_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_direct_dependencies_json(
    topology: *const healbot_topology,
    node: *const c_char,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        ids_json(t, t.direct_dependencies(n))
    })
}

/// What needs `node` directly, in node order, as a JSON array of node ids
/// written to `json_out`; free it with `healbot_buffer_free`. `node` is an
/// id or alias; an unknown one is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `json_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_direct_dependents_json(
    topology: *const healbot_topology,
    node: *const c_char,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        ids_json(t, t.direct_dependents(n))
    })
}

/// How many nodes depend on `node`, transitively, and their tier weight,
/// written to `radius_out`. `node` is an id or alias; an unknown one is
/// `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `radius_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_blast_radius(
    topology: *const healbot_topology,
    node: *const c_char,
    radius_out: *mut healbot_blast_radius,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_out(err_out, radius_out, "radius_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        let r = t.blast_radius(n, &mut t.traversal());
        Ok(healbot_blast_radius { nodes: r.nodes, tier_weighted: r.tier_weighted })
    })
}

/// A shortest chain of dependencies from `source` to `target`, both
/// included (`[source]` when they are the same node), as a JSON array of
/// node ids; JSON `null` when `target` is not a dependency of `source`.
/// Written to `json_out`; free it with `healbot_buffer_free`. Each node is
/// an id or alias; an unknown one is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `source` and `target` are NUL-terminated
/// strings; `json_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_path_to_dependency_json(
    topology: *const healbot_topology,
    source: *const c_char,
    target: *const c_char,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let ((t, a), (_, b)) =
            unsafe { (node_arg(topology, source, "source")?, node_arg(topology, target, "target")?) };
        match t.path_to_dependency(a, b, &mut t.traversal()) {
            Some(path) => ids_json(t, &path),
            None => Ok(healbot_buffer::new(b"null".to_vec())),
        }
    })
}

/// The shard (connected part of the graph) `node` belongs to, written to
/// `shard_out`: an index into `healbot_topology_shards_json`'s array.
/// `node` is an id or alias; an unknown one is
/// `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `topology` is a live topology; `node` is a NUL-terminated string;
/// `shard_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_shard_of(
    topology: *const healbot_topology,
    node: *const c_char,
    shard_out: *mut usize,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_out(err_out, shard_out, "shard_out", || {
        // SAFETY: per this function's contract.
        let (t, n) = unsafe { node_arg(topology, node, "node") }?;
        Ok(t.shard_of(n).index())
    })
}

/// Every shard's node ids, indexed by shard number, as a JSON array of
/// arrays written to `json_out`; free it with `healbot_buffer_free`.
///
/// # Safety
///
/// `topology` is a live topology; `json_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_shards_json(
    topology: *const healbot_topology,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let t = &unsafe { self::topology(topology, "topology") }?.topology;
        let shards: Vec<Vec<&str>> = t.shards().iter().map(|s| s.iter().map(|&n| t.node(n).id()).collect()).collect();
        json_buffer(serde_json::to_vec(&shards), "shards")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    const TOPO: &str = r#"{"apiVersion": "healbot.dev/v1", "kind": "Topology", "metadata": {"name": "t"},
        "spec": {"nodes": [
            {"id": "web", "kind": "service", "tier": 1, "depends_on": ["api"]},
            {"id": "api", "kind": "service", "tier": 2, "depends_on": ["db"], "aliases": ["api-svc"]},
            {"id": "db", "kind": "database", "tier": 1},
            {"id": "lone", "kind": "cache", "tier": 4}
        ]}}"#;

    fn topo() -> *mut healbot_topology {
        let mut t = ptr::null_mut();
        // SAFETY: valid arguments.
        let r = unsafe {
            crate::healbot_topology_new(c"t.json".as_ptr(), TOPO.as_ptr(), TOPO.len(), 0, &mut t, ptr::null_mut())
        };
        assert_eq!(r, healbot_result::Ok);
        t
    }

    fn take(buf: *mut healbot_buffer) -> String {
        // SAFETY: a live buffer, freed once.
        unsafe {
            let s = std::slice::from_raw_parts(crate::healbot_buffer_data(buf), crate::healbot_buffer_len(buf));
            let s = String::from_utf8(s.to_vec()).unwrap();
            crate::healbot_buffer_free(buf);
            s
        }
    }

    #[test]
    fn queries_translate_the_core() {
        let t = topo();
        let mut buf = ptr::null_mut();
        // SAFETY: live handles and valid strings throughout.
        unsafe {
            assert_eq!(healbot_topology_nodes_json(t, &mut buf, ptr::null_mut()), healbot_result::Ok);
            assert_eq!(take(buf), r#"["db","api","web","lone"]"#);
            assert_eq!(
                healbot_topology_dependencies_json(t, c"web".as_ptr(), &mut buf, ptr::null_mut()),
                healbot_result::Ok
            );
            assert_eq!(take(buf), r#"["api","db"]"#);
            assert_eq!(
                healbot_topology_dependents_json(t, c"db".as_ptr(), &mut buf, ptr::null_mut()),
                healbot_result::Ok
            );
            assert_eq!(take(buf), r#"["api","web"]"#);
            assert_eq!(
                healbot_topology_path_to_dependency_json(t, c"web".as_ptr(), c"db".as_ptr(), &mut buf, ptr::null_mut()),
                healbot_result::Ok
            );
            assert_eq!(take(buf), r#"["web","api","db"]"#);
            assert_eq!(
                healbot_topology_path_to_dependency_json(t, c"db".as_ptr(), c"web".as_ptr(), &mut buf, ptr::null_mut()),
                healbot_result::Ok
            );
            assert_eq!(take(buf), "null");
            let mut r = healbot_blast_radius { nodes: 0, tier_weighted: 0.0 };
            assert_eq!(
                healbot_topology_blast_radius(t, c"api-svc".as_ptr(), &mut r, ptr::null_mut()),
                healbot_result::Ok
            );
            assert_eq!(r, healbot_blast_radius { nodes: 1, tier_weighted: 8.0 });
            let mut kind = ptr::null();
            assert_eq!(healbot_topology_node_kind(t, c"db".as_ptr(), &mut kind, ptr::null_mut()), healbot_result::Ok);
            assert_eq!(CStr::from_ptr(kind), c"database");
            assert!(healbot_topology_contains(t, c"api-svc".as_ptr()));
            assert!(!healbot_topology_contains(t, c"nope".as_ptr()));
            assert_eq!(
                healbot_topology_dependencies_json(t, c"nope".as_ptr(), &mut buf, ptr::null_mut()),
                healbot_result::InvalidInput
            );
            crate::healbot_topology_free(t);
        }
    }

    #[test]
    fn every_kind_has_its_document_spelling() {
        for k in NodeKind::ALL {
            assert_eq!(kind_name(k).to_str().unwrap(), k.as_str());
        }
    }
}
