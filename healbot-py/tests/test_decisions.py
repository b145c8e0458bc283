"""Decisions, the ledger (executions and outcomes), snapshots, pickling and reload."""

from __future__ import annotations

import copy
import gc
import json
import pickle

import pytest

import healbot

from .conftest import SHOP, T0, by_node, redis_outage


def test_cascade_decisions(shop_engine: healbot.Engine) -> None:
    decisions = redis_outage(shop_engine)
    nodes = by_node(decisions)
    assert set(nodes) == {"redis-cart", "cartservice", "checkoutservice", "frontend"}
    root = nodes["redis-cart"]
    assert root.verdict == "execute" and root.reasons == []
    assert root.signature is not None and root.signature.id == "db.unavailable"
    assert (root.signature.category, root.signature.severity, root.signature.status) == (
        "unavailable",
        "critical",
        "stable",
    )
    assert root.root_cause.role == "root" and root.root_cause.rank == 1
    assert root.root_cause.score is not None and root.root_cause.signature == "db.unavailable"
    assert sorted(root.root_cause.explains) == ["cartservice", "checkoutservice", "frontend"]
    action = root.action
    assert action is not None
    assert (action.id, action.operation, action.target, action.risk) == (
        "failover_database",
        "failover",
        "redis-cart",
        "medium",
    )
    assert action.parameters == {"mode": "graceful"} and action.min_confidence == 0.7
    assert "cooldown" in action.guards_passed
    assert float(root.confidence) == root.confidence.value >= 0.7
    terms = root.confidence.terms
    assert [t.name for t in terms][0] == "prior"
    assert sum(t.value for t in terms) == pytest.approx(root.confidence.log_odds)
    assert all(t.detail for t in terms) and "ConfidenceTerm" in repr(terms[0])
    assert any(e.satisfied and e.role == "required" for e in root.evidence)
    assert any(e.role == "evidence" and e.weight == 1.0 for e in root.evidence)
    assert "failover_database" in root.explanation
    symptom = nodes["checkoutservice"]
    assert symptom.verdict == "suppress" and symptom.action is None
    assert symptom.root_cause.role == "symptom" and symptom.root_cause.node == "redis-cart"
    assert symptom.root_cause.path == ["checkoutservice", "cartservice", "redis-cart"]
    assert symptom.reasons and "redis-cart" in symptom.reasons[0]
    assert symptom.at_ms == int((T0 + 180) * 1000) and symptom.onset_ms == int(T0 * 1000)
    assert symptom.at.timestamp() == T0 + 180 and symptom.onset.timestamp() == T0


def test_decision_documents(shop_engine: healbot.Engine) -> None:
    decisions = redis_outage(shop_engine)
    for d in decisions:
        doc = d.to_dict()
        assert json.loads(d.to_json()) == doc
        assert doc["schema_version"] == healbot.DECISION_SCHEMA_VERSION == d.schema_version
        assert doc["id"] == d.id and doc["verdict"] == d.verdict and doc["node"] == d.node
        assert d.library_revision == shop_engine.library.revision
        back = healbot.Decision.from_json(d.to_json())
        assert back == d and back.to_json() == d.to_json()
        assert d.verdict in repr(d)
        assert d.confidence.to_dict() == doc["confidence"]
        assert d.root_cause.to_dict() == doc["root_cause"]
        assert [e.to_dict() for e in d.evidence] == doc["evidence"]
        if d.signature is not None:
            assert d.signature.to_dict() == doc["signature"]
            assert json.loads(d.signature.to_json()) == doc["signature"]
        if d.action is not None:
            assert d.action.to_dict() == doc["action"] and json.loads(d.action.to_json()) == doc["action"]
            assert "Action" in repr(d.action)
        json.loads(d.confidence.to_json())
        json.loads(d.root_cause.to_json())
        json.loads(d.confidence.terms[0].to_json())
        assert d.confidence.terms[0].to_dict()["name"] == "prior"
        assert "RootCause" in repr(d.root_cause) and "Confidence" in repr(d.confidence)
    with pytest.raises(healbot.InvalidArgumentError, match="not a decision document"):
        healbot.Decision.from_json("{}")


def test_determinism(shop_library: healbot.Library, shop_topology: healbot.Topology) -> None:
    runs = []
    for _ in range(2):
        engine = healbot.Engine(shop_library, shop_topology)
        runs.append([d.to_json() for d in redis_outage(engine)])
    assert runs[0] == runs[1]


def test_record_execution_and_outcome(shop_engine: healbot.Engine) -> None:
    root = by_node(redis_outage(shop_engine))["redis-cart"]
    at = T0 + 181
    assert shop_engine.record_execution(root, at=at) is True
    assert shop_engine.record_execution(root, at=at) is False  # idempotent
    assert shop_engine.record_outcome(root, True, at=at + 60) is True
    assert shop_engine.record_outcome(root.id, True, at=at + 60) is False
    # The cooldown now blocks the same action on the same target.
    later = by_node(shop_engine.evaluate(at=at + 120))["redis-cart"]
    assert later.action is None or later.action.id != "failover_database"
    rejected = {r.id: r for r in later.rejected}
    failover = rejected["failover_database"]
    assert failover.target == "redis-cart"
    assert any(f.guard == "cooldown" for f in failover.failed)
    failure = next(f for f in failover.failed if f.guard == "cooldown")
    assert failure.reason and "GuardFailure" in repr(failure)
    assert failure.to_dict()["guard"] == "cooldown" and json.loads(failure.to_json())["guard"] == "cooldown"
    assert failover.to_dict()["id"] == "failover_database" and json.loads(failover.to_json())["id"] == failover.id
    assert "failover_database" in repr(failover)
    assert failure.observed is None or isinstance(failure.observed, float)
    assert failure.limit is None or isinstance(failure.limit, float)


def test_record_errors(shop_engine: healbot.Engine, shop_library: healbot.Library) -> None:
    decisions = redis_outage(shop_engine)
    symptom = by_node(decisions)["frontend"]
    with pytest.raises(healbot.InvalidArgumentError, match="action"):
        shop_engine.record_execution(symptom)  # no chosen action to default to
    with pytest.raises(healbot.InvalidArgumentError, match="unknown action"):
        shop_engine.record_execution("d-1", "nope", "redis-cart", at=T0)
    with pytest.raises(healbot.InvalidArgumentError, match="unknown target"):
        shop_engine.record_execution("d-1", "page_owner", "nope", at=T0)
    with pytest.raises(healbot.InvalidArgumentError):
        shop_engine.record_outcome("d-never", True, at=T0)
    with pytest.raises(TypeError, match="decision"):
        shop_engine.record_outcome(42, True, at=T0)  # type: ignore[arg-type]
    assert shop_engine.record_execution("d-1", "page_owner", "redis", at=T0, unattended=False)
    dry = healbot.Engine(shop_library, shop_engine.topology, {"dry_run": True})
    with pytest.raises(healbot.InvalidArgumentError, match="dry-run"):
        dry.record_execution("d-1", "page_owner", "redis-cart", at=T0)


def test_snapshot_restore(shop_engine: healbot.Engine, shop_library: healbot.Library) -> None:
    redis_outage(shop_engine, steps=6)
    blob = shop_engine.snapshot()
    assert isinstance(blob, bytes) and len(blob) > 42
    restored = healbot.Engine.restore(shop_library, shop_engine.topology, blob)
    assert restored.snapshot() == blob
    assert restored.stats() == shop_engine.stats()
    at = T0 + 200
    assert [d.to_json() for d in restored.evaluate(at=at)] == [d.to_json() for d in shop_engine.evaluate(at=at)]
    custom = healbot.Engine.restore(shop_library, shop_engine.topology, blob, {"max_series": 10})
    assert custom.config["max_series"] == 10


def test_snapshot_errors(shop_engine: healbot.Engine, cpu_library: healbot.Library) -> None:
    blob = shop_engine.snapshot()
    topo = shop_engine.topology
    with pytest.raises(healbot.SnapshotError, match="bad magic"):
        healbot.Engine.restore(shop_engine.library, topo, b"nope")
    with pytest.raises(healbot.SnapshotError, match="library revision"):
        healbot.Engine.restore(cpu_library, topo, blob)
    with pytest.raises(healbot.SnapshotError, match="corrupt"):
        healbot.Engine.restore(shop_engine.library, topo, blob[:50] + b"\xff" * 7)
    with pytest.raises(healbot.InvalidArgumentError, match="max_serie"):
        healbot.Engine.restore(shop_engine.library, topo, blob, {"max_serie": 1})


def test_pickle_round_trip(shop_engine: healbot.Engine) -> None:
    redis_outage(shop_engine, steps=6)
    root_before = shop_engine.record_execution("d-x", "page_owner", "redis-cart", at=T0 + 80)
    assert root_before
    clone = pickle.loads(pickle.dumps(shop_engine))
    assert isinstance(clone, healbot.Engine)
    assert clone.snapshot() == shop_engine.snapshot()
    assert clone.config == shop_engine.config
    assert clone.library.revision == shop_engine.library.revision
    at = T0 + 200
    assert [d.to_json() for d in clone.evaluate(at=at)] == [d.to_json() for d in shop_engine.evaluate(at=at)]
    # The ledger travelled too: the same execution is a repeat.
    assert clone.record_execution("d-x", "page_owner", "redis-cart", at=T0 + 80) is False
    assert copy.deepcopy(shop_engine).snapshot() == shop_engine.snapshot()
    configured = healbot.Engine(shop_engine.library, shop_engine.topology, {"max_series": 5, "staleness": "1m"})
    assert pickle.loads(pickle.dumps(configured)).config == configured.config


def test_reload_library(shop_engine: healbot.Engine, shop_library: healbot.Library) -> None:
    redis_outage(shop_engine, steps=6)
    tuned = healbot.Library.load(SHOP / "signatures.yaml", SHOP / "actions.yaml")
    assert tuned.revision != shop_library.revision
    shop_engine.reload_library(tuned)
    assert shop_engine.library.revision == tuned.revision
    decisions = redis_outage(shop_engine, start=T0 + 90, steps=6)
    assert decisions and all(d.library_revision == tuned.revision for d in decisions)
    assert by_node(decisions)["redis-cart"].verdict == "execute"
    with pytest.raises(TypeError):
        shop_engine.reload_library("signatures.yaml")  # type: ignore[arg-type]
    assert shop_engine.library.revision == tuned.revision


def test_decision_attributes_read_again(shop_engine: healbot.Engine) -> None:
    """The node, verdict, signature and root cause are made once per decision
    (or shared within an evaluation): reading them again gives equal values of
    the same types, and the document is unchanged."""
    decisions = redis_outage(shop_engine)
    for d in decisions:
        doc = d.to_dict()
        for _ in range(3):
            assert type(d.node) is str and d.node == doc["node"]
            assert type(d.verdict) is str and d.verdict == doc["verdict"]
            assert d.root_cause.role == doc["root_cause"]["role"] and type(d.root_cause.role) is str
            assert d.root_cause == d.root_cause and d.root_cause.to_dict() == doc["root_cause"]
            if "signature" in doc:
                assert d.signature is not None and d.signature.id == doc["signature"]["id"]
                assert type(d.signature.id) is str and d.signature.to_dict() == doc["signature"]
            else:
                assert d.signature is None
        assert d.to_dict() == doc
        # Frozen: the attributes cannot be set.
        for name in ("node", "verdict", "signature", "root_cause"):
            with pytest.raises(AttributeError):
                setattr(d, name, None)
        if d.signature is not None:
            with pytest.raises(AttributeError):
                setattr(d.signature, "id", "x")


def test_decisions_of_a_signature_share_their_signature(shop_engine: healbot.Engine) -> None:
    decisions = [d for d in redis_outage(shop_engine) if d.signature is not None]
    by_signature: dict[str, list[healbot.Decision]] = {}
    for d in decisions:
        assert d.signature is not None
        by_signature.setdefault(d.signature.id, []).append(d)
    assert by_signature
    for same in by_signature.values():
        first = same[0].signature
        assert first is not None
        for d in same:
            assert d.signature == first and d.signature is not None and d.signature.title == first.title


def test_decisions_of_different_evaluations_are_independent(
    shop_library: healbot.Library, shop_topology: healbot.Topology
) -> None:
    a = redis_outage(healbot.Engine(shop_library, shop_topology))
    b = redis_outage(healbot.Engine(shop_library, shop_topology))
    assert [d.to_json() for d in a] == [d.to_json() for d in b]
    assert a == b and all(x == y and x is not y for x, y in zip(a, b))
    snapshot = [(d.node, d.verdict, d.signature.id if d.signature else "", d.root_cause.role) for d in b]
    docs = [d.to_json() for d in b]
    del a
    gc.collect()
    assert [(d.node, d.verdict, d.signature.id if d.signature else "", d.root_cause.role) for d in b] == snapshot
    assert [d.to_json() for d in b] == docs
    # A decision outlives its evaluation's other decisions and its engine.
    last = b[-1]
    doc = last.to_json()
    del b
    gc.collect()
    assert last.to_json() == doc and last.node == json.loads(doc)["node"]


def test_decision_from_json_reads_like_an_evaluated_one(shop_engine: healbot.Engine) -> None:
    for d in redis_outage(shop_engine):
        back = healbot.Decision.from_json(d.to_json())
        assert (back.node, back.verdict, back.root_cause.role) == (d.node, d.verdict, d.root_cause.role)
        assert (back.signature.id if back.signature else None) == (d.signature.id if d.signature else None)
        assert back.signature == d.signature and back == d


def test_decisions_hash_by_id_and_pickle_as_their_document(shop_engine: healbot.Engine) -> None:
    """Decisions are set members and dict keys (by id) and travel through
    pickle (to workers and back) as their decision document."""
    decisions = redis_outage(shop_engine)
    again = [healbot.Decision.from_json(d.to_json()) for d in decisions]
    assert {hash(a) for a in again} == {hash(d) for d in decisions}
    assert len(set(decisions) | set(again)) == len({d.id for d in decisions})
    assert {d: d.verdict for d in decisions}[again[0]] == decisions[0].verdict
    for d in decisions:
        back = pickle.loads(pickle.dumps(d))
        assert type(back) is healbot.Decision
        assert back == d and back.to_json() == d.to_json() and back.root_cause.role == d.root_cause.role
    assert copy.deepcopy(decisions[0]) == decisions[0]


def test_decisions_are_not_tracked_by_the_cycle_collector(shop_engine: healbot.Engine) -> None:
    """Results hold no references that could lead back to themselves, so the
    collector need not visit them (a thousand per evaluation)."""
    d = redis_outage(shop_engine)[0]
    assert not gc.is_tracked(d) and not gc.is_tracked(d.root_cause)
    assert d.signature is None or not gc.is_tracked(d.signature)
