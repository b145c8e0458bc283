"""Topology queries, errors and pickling."""

from __future__ import annotations

import json
import pickle

import pytest

import healbot

from .conftest import CPU_LIBRARY, SMALL_TOPOLOGY


def test_queries(small_topology: healbot.Topology) -> None:
    t = small_topology
    assert len(t) == 4
    assert sorted(t.nodes) == ["api", "batch", "db", "web"]
    assert t.dependencies("web") == ["api", "db"]
    assert t.dependents("db") == ["api", "web"]
    assert t.dependents("batch") == []
    radius = t.blast_radius("db")
    assert (radius.nodes, radius.tier_weighted) == (2, 12.0)
    assert radius == healbot.Topology.from_text(SMALL_TOPOLOGY).blast_radius("db")
    assert "nodes=2" in repr(radius)
    assert t.shard_of("web") == t.shard_of("db") != t.shard_of("batch")
    assert sorted(map(sorted, t.shards)) == [["api", "db", "web"], ["batch"]]
    assert t.path_to_dependency("web", "db") == ["web", "api", "db"]
    assert t.path_to_dependency("db", "web") is None


def test_aliases_and_nodes(small_topology: healbot.Topology) -> None:
    t = small_topology
    assert "api-v2" in t and "api" in t and "nope" not in t and 3 not in t
    node = t.node("api-v2")
    assert (node.id, node.kind, node.tier, node.replicas) == ("api", "service", 2, 1)
    assert node.aliases == ["api-v2"] and node.labels == {}
    assert node.shard == t.shard_of("api")
    assert node == t.node("api") and hash(node) == hash(t.node("api"))
    assert node != t.node("db")
    assert "api" in repr(node)
    assert t.dependencies("api-v2") == ["db"]


def test_shop(shop_topology: healbot.Topology) -> None:
    assert "frontend" in shop_topology.dependents("redis-cart")
    assert shop_topology.node("redis").id == "redis-cart"
    assert shop_topology.node("frontend").labels == {"team": "web"}
    assert shop_topology.blast_radius("redis-cart").nodes == 3


def test_unknown_node(small_topology: healbot.Topology) -> None:
    for call in (
        small_topology.dependencies,
        small_topology.dependents,
        small_topology.blast_radius,
        small_topology.shard_of,
        small_topology.node,
    ):
        with pytest.raises(healbot.TopologyError, match="unknown node `dbb`"):
            call("dbb")
    with pytest.raises(healbot.TopologyError):
        small_topology.path_to_dependency("web", "dbb")


def test_invalid_topology_diagnostics() -> None:
    bad = SMALL_TOPOLOGY.replace("depends_on: [db]", "depends_on: [dbb]").replace("tier: 4", "tier: 9")
    with pytest.raises(healbot.TopologyError) as info:
        healbot.Topology.from_text(bad, name="bad.yaml")
    diags = info.value.diagnostics
    assert len(diags) == 2
    assert all(d.file == "bad.yaml" and d.line > 0 and d.column > 0 for d in diags)
    assert any(d.suggestion == "did you mean `db`?" for d in diags)
    assert not isinstance(info.value, ValueError)


def test_json_and_missing_document() -> None:
    doc = {
        "apiVersion": "healbot.dev/v1",
        "kind": "Topology",
        "metadata": {"name": "j"},
        "spec": {"nodes": [{"id": "a", "kind": "service"}]},
    }
    assert healbot.Topology.from_text(json.dumps(doc), format="json").nodes == ["a"]
    with pytest.raises(healbot.TopologyError, match="no Topology"):
        healbot.Topology.from_text(CPU_LIBRARY)


def test_pickle(small_topology: healbot.Topology) -> None:
    back = pickle.loads(pickle.dumps(small_topology))
    assert back.nodes == small_topology.nodes
    assert back.dependencies("web") == ["api", "db"]
    assert "nodes=4" in repr(back)
