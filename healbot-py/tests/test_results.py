"""Result objects: parts share their decision (no copies) and `to_dict()` builds
exactly what `json.loads(to_json())` gives, type for type."""

from __future__ import annotations

import gc
import json
from typing import Any

import healbot

from .conftest import T0, redis_outage


def same_types(a: Any, b: Any, where: str = "$") -> None:
    """`a == b` and every value has the same type (1 and 1.0 differ)."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            same_types(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same_types(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def test_to_dict_is_json_loads_of_to_json_type_for_type(shop_engine: healbot.Engine) -> None:
    decisions = redis_outage(shop_engine)
    assert decisions
    for d in decisions:
        same_types(d.to_dict(), json.loads(d.to_json()))
        same_types(d.confidence.to_dict(), json.loads(d.confidence.to_json()))
        same_types(d.root_cause.to_dict(), json.loads(d.root_cause.to_json()))
        for term in d.confidence.terms:
            same_types(term.to_dict(), json.loads(term.to_json()))
        for e in d.evidence:
            same_types(e.to_dict(), json.loads(e.to_json()))
        for r in d.rejected:
            same_types(r.to_dict(), json.loads(r.to_json()))
            for f in r.failed:
                same_types(f.to_dict(), json.loads(f.to_json()))
    for diag in shop_engine.diagnose(at=T0 + 180):
        same_types(diag.to_dict(), json.loads(diag.to_json()))


def test_stats_and_config_are_plain_json_values(shop_engine: healbot.Engine) -> None:
    redis_outage(shop_engine)
    shop_engine.ingest_metric("not_read_by_anyone", 1.0, {"service": "nowhere"}, at=T0)
    stats = shop_engine.stats()
    same_types(stats, json.loads(json.dumps(stats)))
    # Enum-keyed maps have string keys.
    assert stats["dropped"] == {"not_read": 1}
    assert all(isinstance(k, str) for k in stats["ingested"])
    same_types(shop_engine.config, json.loads(json.dumps(shop_engine.config)))


def test_parts_share_and_outlive_their_decision(shop_engine: healbot.Engine) -> None:
    decisions = redis_outage(shop_engine)
    d = next(d for d in decisions if d.rejected or d.action)
    doc = d.to_dict()
    parts = (d.signature, d.confidence, d.root_cause, d.evidence, d.confidence.terms, d.rejected, d.action)
    assert d.signature == d.signature and d.root_cause == d.root_cause and d.confidence == d.confidence
    assert d.evidence == d.evidence and d.confidence.terms == d.confidence.terms
    del d, decisions
    gc.collect()
    signature, confidence, root_cause, evidence, terms, rejected, action = parts
    assert signature is not None and signature.to_dict() == doc["signature"]
    assert confidence.value == doc["confidence"]["value"]
    assert [t.to_dict() for t in terms] == doc["confidence"]["terms"]
    assert root_cause.role == doc["root_cause"]["role"] and root_cause.node == doc["root_cause"]["node"]
    assert [e.to_dict() for e in evidence] == doc["evidence"]
    assert [r.to_dict() for r in rejected] == doc["rejected"]
    assert [[f.to_dict() for f in r.failed] for r in rejected] == [r["failed"] for r in doc["rejected"]]
    assert (action.to_dict() if action else None) == doc["action"]


def test_parts_of_equal_documents_are_equal(shop_engine: healbot.Engine) -> None:
    for d in redis_outage(shop_engine):
        back = healbot.Decision.from_json(d.to_json())
        assert back == d and back.confidence == d.confidence and back.root_cause == d.root_cause
        assert back.evidence == d.evidence and back.rejected == d.rejected and back.signature == d.signature
        assert back.action == d.action and back.confidence.terms == d.confidence.terms
