"""Engine construction, configuration, timestamps and every ingestion method."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

import numpy as np
import pytest

import healbot

from .conftest import T0, by_node

UTC = timezone.utc


def test_config_defaults_and_overrides(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    default = healbot.Engine(cpu_library, small_topology).config
    assert default["max_series"] == 100_000 and default["staleness"] == "5m"
    engine = healbot.Engine(cpu_library, small_topology, {"max_series": 7, "staleness": "10m", "dry_run": True})
    assert engine.config["max_series"] == 7 and engine.config["staleness"] == "10m"
    assert engine.library.revision == cpu_library.revision
    assert engine.topology.nodes == small_topology.nodes
    assert "nodes=4" in repr(engine)


def test_config_errors(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    with pytest.raises(healbot.InvalidArgumentError, match="did you mean `max_series`"):
        healbot.Engine(cpu_library, small_topology, {"max_serie": 1})
    with pytest.raises(healbot.InvalidArgumentError, match="staleness"):
        healbot.Engine(cpu_library, small_topology, {"staleness": "soon"})
    with pytest.raises(ValueError):
        healbot.Engine(cpu_library, small_topology, {"max_series": -1})
    with pytest.raises(TypeError):
        healbot.Engine(cpu_library, small_topology, [("max_series", 1)])  # type: ignore[arg-type]


def test_ingest_metric_and_diagnose(cpu_engine: healbot.Engine) -> None:
    cpu_engine.ingest_metric("cpu", 0.95, {"service": "api"}, at=T0)
    cpu_engine.ingest_metric("cpu", 0.97, {"service": "api-v2"}, at=T0 + 10)  # alias, same series
    cpu_engine.ingest_metric("unread_metric", 1.0, {"service": "api"}, at=T0)
    cpu_engine.ingest_metric("cpu", 0.99, {"service": "nowhere"}, at=T0)
    cpu_engine.ingest_metric("cpu", 0.99, None, at=T0)
    [diag] = cpu_engine.diagnose(at=T0 + 20)
    assert (diag.signature, diag.node, diag.category, diag.severity, diag.status) == (
        "cpu.hot",
        "api",
        "saturation",
        "warning",
        "stable",
    )
    assert diag.at == datetime.fromtimestamp(T0 + 20, UTC)
    assert diag.onset == diag.at and diag.coverage == 1.0 and not diag.forecast
    [ev] = diag.evidence
    assert ev.predicate.startswith("avg(cpu")
    assert ev.observed == pytest.approx(0.97) and ev.threshold == 0.9 and ev.op == ">"
    assert ev.window == "1m" and ev.satisfied and ev.role == "required" and ev.weight is None
    assert "held" in repr(ev) and json.loads(ev.to_json()) == ev.to_dict()
    d = diag.to_dict()
    assert d["signature"] == "cpu.hot" and d["at"] == int((T0 + 20) * 1000)
    assert json.loads(diag.to_json()) == d and "cpu.hot" in repr(diag)
    stats = cpu_engine.stats()
    # `service=api` and `service=api-v2` are two series of one node; `>` reads the highest.
    assert stats["ingested_metrics"] == 2 and stats["series"] == 2
    assert stats["dropped"] == {"not_read": 1}
    assert stats["unattached"] == {"unknown_node": 1, "no_attach_label": 1}
    assert stats["evaluations"] == 1


def test_timestamps(cpu_engine: healbot.Engine) -> None:
    aware = datetime.fromtimestamp(T0, UTC)
    plus_two = aware.astimezone(timezone(timedelta(hours=2)))
    cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"}, at=aware)
    cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"}, at=plus_two + timedelta(seconds=1))
    cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"}, at=int(T0) + 2)
    cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"}, at=T0 + 2.5)
    [diag] = cpu_engine.diagnose(at=plus_two + timedelta(seconds=3))
    assert diag.at == aware + timedelta(seconds=3)
    assert cpu_engine.stats()["ingested_metrics"] == 4


def test_numbers_of_other_types_are_seconds(cpu_engine: healbot.Engine) -> None:
    """numpy's scalars (as a column's items come out) and fractions are
    seconds, as ints and floats are; a numpy bool is no more a time than a bool."""
    whole = int(T0)
    cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"}, at=whole - 10)
    for at, ms in [
        (np.int64(whole), whole * 1000),
        (np.uint32(whole), whole * 1000),
        (np.float64(whole + 0.25), whole * 1000 + 250),
        (Fraction(2 * whole + 1, 2), whole * 1000 + 500),
    ]:
        [d] = cpu_engine.diagnose(at=at)  # type: ignore[arg-type]
        assert d.at == datetime.fromtimestamp(ms / 1000, UTC), (type(at), d.at)
    with pytest.raises(TypeError, match="got bool"):
        cpu_engine.diagnose(at=np.bool_(True))  # type: ignore[arg-type]
    with pytest.raises(healbot.InvalidArgumentError, match="representable"):
        cpu_engine.diagnose(at=np.uint64(2**63))  # type: ignore[arg-type]


def test_naive_and_bad_timestamps(cpu_engine: healbot.Engine) -> None:
    with pytest.raises(healbot.InvalidArgumentError, match="naive datetime"):
        cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"}, at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        cpu_engine.evaluate(at=datetime(2024, 1, 1))
    with pytest.raises(TypeError, match="date is not a point in time"):
        cpu_engine.diagnose(at=date(2024, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got str"):
        cpu_engine.diagnose(at="2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cpu_engine.diagnose(at=True)
    with pytest.raises(healbot.InvalidArgumentError, match="representable"):
        cpu_engine.diagnose(at=float("inf"))
    with pytest.raises(healbot.InvalidArgumentError, match="representable"):
        cpu_engine.diagnose(at=10**30)


def test_at_none_is_now(cpu_engine: healbot.Engine) -> None:
    before = datetime.now(UTC)
    cpu_engine.ingest_metric("cpu", 1.0, {"service": "api"})
    [diag] = cpu_engine.diagnose()
    after = datetime.now(UTC)
    assert before - timedelta(seconds=1) <= diag.at <= after + timedelta(seconds=1)


def test_bad_labels(cpu_engine: healbot.Engine) -> None:
    with pytest.raises(TypeError, match="label value"):
        cpu_engine.ingest_metric("cpu", 1.0, {"service": 3}, at=T0)  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="mapping"):
        cpu_engine.ingest_metric("cpu", 1.0, ["service", "api"], at=T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cpu_engine.ingest_metric("cpu", "high", {"service": "api"}, at=T0)  # type: ignore[arg-type]


def test_mapping_labels(cpu_engine: healbot.Engine) -> None:
    from types import MappingProxyType

    cpu_engine.ingest_metric("cpu", 0.99, MappingProxyType({"service": "api"}), at=T0)
    assert cpu_engine.stats()["ingested_metrics"] == 1


def test_series_limit(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    engine = healbot.Engine(cpu_library, small_topology, {"max_series": 1})
    engine.ingest_metric("cpu", 1.0, {"service": "api", "core": "0"}, at=T0)
    with pytest.raises(healbot.LimitExceeded) as info:
        engine.ingest_metric("cpu", 1.0, {"service": "api", "core": "1"}, at=T0)
    assert isinstance(info.value, healbot.HealbotError) and info.value.diagnostics == []
    assert engine.stats()["dropped"]["series_limit"] == 1


def test_ingest_log(cpu_engine: healbot.Engine) -> None:
    for i in range(3):
        cpu_engine.ingest_log("java.lang.OutOfMemoryError: heap", {"service": "api"}, at=T0 + i, severity="ERROR")
    cpu_engine.ingest_log("all good", {"service": "api"}, at=T0, severity="warning")
    cpu_engine.ingest_log("no node", None, at=T0)
    assert [d.signature for d in cpu_engine.diagnose(at=T0 + 5)] == ["api.oom"]
    assert cpu_engine.stats()["ingested"]["log"] == 4
    with pytest.raises(healbot.InvalidArgumentError, match="severity"):
        cpu_engine.ingest_log("x", {"service": "api"}, at=T0, severity="loud")


ALERTMANAGER = {
    "version": "4",
    "status": "firing",
    "receiver": "healbot",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "KubePodCrashLooping", "service": "cartservice"},
            "annotations": {"summary": "cart crash-looping"},
            "startsAt": "2023-11-14T22:13:20Z",
            "endsAt": "0001-01-01T00:00:00Z",
        },
        {"status": "firing", "labels": {"alertname": "Broken"}, "startsAt": "not a time"},
    ],
}


@pytest.mark.parametrize("kind", ["dict", "str", "bytes", "bytearray"])
def test_ingest_alertmanager(shop_engine: healbot.Engine, kind: str) -> None:
    text = json.dumps(ALERTMANAGER)
    payload: object = {
        "dict": ALERTMANAGER,
        "str": text,
        "bytes": text.encode(),
        "bytearray": bytearray(text.encode()),
    }[kind]
    report = shop_engine.ingest_alertmanager(payload)  # type: ignore[arg-type]
    assert report.observations == 1 and report.dropped == 0
    [error] = report.errors
    assert "2:" in error or "alerts[1]" in error or "1" in error
    assert shop_engine.stats()["alerts"] == 1
    assert report.to_dict() == {"observations": 1, "errors": report.errors, "dropped": 0}
    assert json.loads(report.to_json()) == report.to_dict() and "observations=1" in repr(report)
    diags = shop_engine.diagnose(at=T0)
    assert ("svc.crash_loop", "cartservice") in [(d.signature, d.node) for d in diags]


def test_malformed_and_oversized_payloads(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    engine = healbot.Engine(cpu_library, small_topology, {"max_payload_bytes": 64})
    with pytest.raises(healbot.TelemetryError, match="malformed alertmanager"):
        engine.ingest_alertmanager("{\n oops")
    with pytest.raises(healbot.LimitExceeded, match="over the limit"):
        engine.ingest_alertmanager("x" * 65)
    with pytest.raises(TypeError, match="payload"):
        engine.ingest_alertmanager(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str or bytes"):
        engine.ingest_ndjson({"type": "metric"})  # type: ignore[arg-type]


def test_ingest_prometheus_text(cpu_engine: healbot.Engine) -> None:
    text = '# TYPE cpu gauge\ncpu{service="api"} 0.97\ncpu{service="api"} 0.98 1700000001000\nbad line\n'
    report = cpu_engine.ingest_prometheus_text(text, at=T0)
    assert report.observations == 2 and len(report.errors) == 1 and report.errors[0].startswith("4:")
    assert report.to_dict()["observations"] == 2
    report = cpu_engine.ingest_prometheus_text(text.encode(), at=datetime.fromtimestamp(T0, UTC))
    assert report.observations == 2
    assert [d.signature for d in cpu_engine.diagnose(at=T0 + 2)] == ["cpu.hot"]


OTLP_LOGS = {
    "resourceLogs": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
            "scopeLogs": [
                {
                    "logRecords": [
                        {
                            "timeUnixNano": str(int(T0 * 1e9) + i),
                            "severityNumber": 17,
                            "body": {"stringValue": "OutOfMemoryError"},
                        }
                        for i in range(2)
                    ]
                }
            ],
        }
    ]
}

OTLP_METRICS = {
    "resourceMetrics": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
            "scopeMetrics": [
                {
                    "metrics": [
                        {
                            "name": "cpu",
                            "gauge": {"dataPoints": [{"timeUnixNano": str(int(T0 * 1e9)), "asDouble": 0.99}]},
                        }
                    ]
                }
            ],
        }
    ]
}


def test_ingest_otlp_json(cpu_engine: healbot.Engine) -> None:
    assert cpu_engine.ingest_otlp_json(OTLP_LOGS).observations == 2
    assert cpu_engine.ingest_otlp_json(json.dumps(OTLP_METRICS)).observations == 1
    assert cpu_engine.ingest_otlp_json(json.dumps(OTLP_METRICS).encode(), signal="metrics").observations == 1
    assert {d.signature for d in cpu_engine.diagnose(at=T0 + 1)} == {"api.oom", "cpu.hot"}
    with pytest.raises(healbot.TelemetryError, match="cannot tell logs from metrics"):
        cpu_engine.ingest_otlp_json({"something": []})
    with pytest.raises(healbot.InvalidArgumentError, match="signal"):
        cpu_engine.ingest_otlp_json(OTLP_LOGS, signal="traces")  # type: ignore[arg-type]


K8S_EVENT = {
    "apiVersion": "v1",
    "kind": "Event",
    "reason": "BackOff",
    "type": "Warning",
    "message": "Back-off restarting failed container",
    "count": 7,
    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "cartservice-7d9f8c-abcde"},
    "firstTimestamp": "2023-11-14T22:00:00Z",
    "lastTimestamp": "2023-11-14T22:13:20Z",
    "source": {"component": "kubelet"},
}


def test_ingest_k8s_events(shop_engine: healbot.Engine) -> None:
    report = shop_engine.ingest_k8s_events({"kind": "EventList", "items": [K8S_EVENT]})
    assert report.observations == 1 and report.errors == []
    assert shop_engine.ingest_k8s_events([K8S_EVENT]).observations == 1
    assert shop_engine.stats()["ingested"]["event"] == 2
    assert ("svc.crash_loop", "cartservice") in [(d.signature, d.node) for d in shop_engine.diagnose(at=T0)]


def test_ingest_pagerduty(shop_engine: healbot.Engine) -> None:
    event = {
        "routing_key": "e93facc04764012d7bfb002500d5d1a6",
        "event_action": "trigger",
        "dedup_key": "cart/crash",
        "payload": {
            "summary": "KubePodCrashLooping",
            "source": "k8s",
            "severity": "critical",
            "component": "cartservice",
        },
    }
    report = shop_engine.ingest_pagerduty(event, at=T0)
    assert report.observations == 1 and report.errors == []
    assert shop_engine.stats()["alerts"] == 1
    bad = shop_engine.ingest_pagerduty([{"event_action": "trigger", "payload": {}}], at=T0)
    assert bad.observations == 0 and len(bad.errors) == 1
    assert "e93facc04764012d7bfb002500d5d1a6" not in repr(bad.errors)


def test_ingest_ndjson_and_payload(cpu_engine: healbot.Engine) -> None:
    lines = "\n".join(
        [
            json.dumps({"type": "metric", "name": "cpu", "labels": {"service": "api"}, "value": 0.99, "at": int(T0 * 1000)}),
            json.dumps({"type": "log", "body": "OutOfMemoryError", "attributes": {"service": "api"}, "at": int(T0 * 1000)}),
            "not json",
        ]
    )
    report = cpu_engine.ingest_ndjson(lines)
    assert report.observations == 2 and len(report.errors) == 1
    assert cpu_engine.ingest_payload("ndjson", lines.encode()).observations == 2
    assert cpu_engine.ingest_payload("prometheus", 'cpu{service="api"} 1\n', at=T0).observations == 1
    assert cpu_engine.ingest_payload("otlp-logs", OTLP_LOGS).observations == 2
    with pytest.raises(healbot.InvalidArgumentError, match="did you mean `alertmanager`"):
        cpu_engine.ingest_payload("alertmanagr", "{}")


def test_set_node_health(cpu_engine: healbot.Engine) -> None:
    cpu_engine.set_node_health("db", "unhealthy")
    cpu_engine.set_node_health("db", "healthy")
    cpu_engine.set_node_health("api-v2", None)
    with pytest.raises(healbot.TopologyError, match="unknown node"):
        cpu_engine.set_node_health("nope", "healthy")
    with pytest.raises(healbot.InvalidArgumentError, match="health"):
        cpu_engine.set_node_health("db", "sick")  # type: ignore[arg-type]


def test_series_handles(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    engine = healbot.Engine(cpu_library, small_topology)
    handle = engine.resolve_series("cpu", {"service": "api"})
    assert handle is not None and handle.name == "cpu" and "cpu" in repr(handle)
    for i in range(3):
        engine.ingest_series(handle, 0.95, at=T0 + i)
    assert engine.stats()["ingested_metrics"] == 3
    assert [d.signature for d in engine.diagnose(at=T0 + 3)] == ["cpu.hot"]
    assert engine.resolve_series("unread", {"service": "api"}) is None
    assert engine.resolve_series("cpu", {"service": "nowhere"}) is None
    other = healbot.Engine(cpu_library, small_topology)
    with pytest.raises(healbot.InvalidArgumentError, match="another engine"):
        other.ingest_series(handle, 1.0, at=T0)
    limited = healbot.Engine(cpu_library, small_topology, {"max_series": 1})
    assert limited.resolve_series("cpu", {"service": "api"}) is not None
    with pytest.raises(healbot.LimitExceeded):
        limited.resolve_series("cpu", {"service": "web"})


def test_label_conversions_are_reused_correctly(cpu_engine: healbot.Engine) -> None:
    labels = {"service": "api", "core": "0"}
    for i in range(3):
        cpu_engine.ingest_metric("cpu", 0.95, labels, at=T0 + i)
    labels["core"] = "1"  # mutated in place: a new series
    cpu_engine.ingest_metric("cpu", 0.95, labels, at=T0 + 3)
    labels["service"] = "web"  # now attached elsewhere
    cpu_engine.ingest_metric("cpu", 0.95, labels, at=T0 + 4)
    del labels["core"]
    cpu_engine.ingest_metric("cpu", 0.95, labels, at=T0 + 5)
    # Equal but distinct string objects, many distinct dicts (more than the cache holds), a large dict.
    for i in range(20):
        cpu_engine.ingest_metric("cpu", 0.95, {"service": "".join(["d", "b"]), "core": str(i % 10)}, at=T0 + 6)
    big = {f"k{i}": str(i) for i in range(12)} | {"service": "db"}
    cpu_engine.ingest_metric("cpu", 0.95, big, at=T0 + 7)
    big["k0"] = "changed"
    cpu_engine.ingest_metric("cpu", 0.95, big, at=T0 + 8)
    cpu_engine.ingest_metric("cpu", 0.95, {}, at=T0 + 9)
    stats = cpu_engine.stats()
    # api core 0, api core 1, web core 1, web, db core 0..9, two big ones; {} attaches nowhere.
    assert stats["series"] == 2 + 2 + 10 + 2
    assert stats["ingested_metrics"] == 6 + 20 + 2
    assert stats["unattached"] == {"no_attach_label": 1}
    with pytest.raises(TypeError):
        cpu_engine.ingest_metric("cpu", 0.95, {"service": 1}, at=T0)  # type: ignore[dict-item]
    nodes = {d.node for d in cpu_engine.diagnose(at=T0 + 10)}
    assert nodes == {"api", "web", "db"}


def test_float_seconds_round_half_away_from_zero_to_milliseconds(cpu_engine: healbot.Engine) -> None:
    from decimal import ROUND_HALF_UP, Decimal

    cpu_engine.ingest_metric("cpu", 0.99, {"service": "api"}, at=-30.0)
    fractions = [0.0004, 0.0005, 0.0025, 0.001953125, 0.49999999999999994e-3, 1.0005, 7.0015, 12.3456789]
    # Ascending: evaluations move forward in time.
    for at in sorted([*fractions, *(-f for f in fractions), 0.0]):
        [decision] = cpu_engine.evaluate(at=at)
        expected = int(Decimal(at * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert decision.at_ms == expected, (at, at * 1000)
    assert int(Decimal(-0.0025 * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)) == -3


def test_every_mapping_the_stubs_allow_is_accepted(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    """The stubs type labels, configs and JSON payloads as `Mapping`, and
    JSON payloads' sequences as lists or tuples: a read-only mapping or a
    tuple works as a dict or a list would, and one mapping of labels is
    one label set for every row, not a sequence of per-row label sets."""
    from types import MappingProxyType

    api = MappingProxyType({"service": "api"})
    engine = healbot.Engine(cpu_library, small_topology, MappingProxyType({"max_series": 7}))
    assert engine.config["max_series"] == 7
    restored = healbot.Engine.restore(cpu_library, small_topology, engine.snapshot(), MappingProxyType({"max_series": 8}))
    assert restored.config["max_series"] == 8

    report = engine.ingest_metrics("cpu", np.full(3, 0.99), T0, api)
    assert (report.observations, report.dropped) == (3, 0)
    assert engine.stats()["ingested_metrics"] == 3
    series = engine.resolve_series_set(["cpu", "cpu"], api)
    assert (len(series), series.resolved) == (2, 2)
    assert [(d.signature, d.node) for d in engine.diagnose(at=T0)] == [("cpu.hot", "api")]

    alert = {"labels": {"alertname": "CpuHot", "service": "web"}, "status": "firing", "startsAt": "2023-11-14T22:13:20Z"}
    body = {"version": "4", "status": "firing", "alerts": (alert,)}
    assert engine.ingest_alertmanager(MappingProxyType(body)).observations == 1
    assert engine.ingest_payload("alertmanager", MappingProxyType(body)).observations == 1
    event = {
        "event_action": "trigger",
        "dedup_key": "db/disk",
        "payload": {"summary": "disk full", "source": "db", "severity": "error", "component": "db"},
    }
    assert engine.ingest_pagerduty((event,), at=T0).observations == 1


def test_lone_surrogates_in_labels_are_named(cpu_engine: healbot.Engine) -> None:
    """A label string that cannot be UTF-8 is reported as such, not as a non-str."""
    for labels in ({"service": "\udc80"}, {"\ud800": "api"}):
        with pytest.raises(healbot.InvalidArgumentError, match="not valid Unicode.*surrogate") as info:
            cpu_engine.ingest_metric("cpu", 1.0, labels, at=T0)
        assert isinstance(info.value.__cause__, UnicodeEncodeError)
        with pytest.raises(healbot.InvalidArgumentError, match="surrogate"):
            cpu_engine.ingest_log("x", labels, at=T0)
        with pytest.raises(healbot.InvalidArgumentError, match="surrogate"):
            cpu_engine.resolve_series_set("cpu", [labels])
