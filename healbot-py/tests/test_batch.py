"""Columnar batches: numpy, array.array and memoryview columns, read in place."""

from __future__ import annotations

import array
from typing import Any

import numpy as np
import pytest

import healbot

from .conftest import CPU_LIBRARY, T0


def diagnosed(engine: healbot.Engine, at: float) -> list[tuple[str, str]]:
    return [(d.signature, d.node) for d in engine.diagnose(at=at)]


def test_numpy_columns(cpu_engine: healbot.Engine) -> None:
    n = 1000
    values = np.linspace(0.91, 1.0, n)
    times = T0 + np.arange(n, dtype=np.float64) * 0.05
    report = cpu_engine.ingest_metrics("cpu", values, times, labels={"service": "api"})
    assert (report.observations, report.dropped, report.errors) == (n, 0, [])
    stats = cpu_engine.stats()
    assert stats["ingested_metrics"] == n and stats["series"] == 1
    [diag] = cpu_engine.diagnose(at=T0 + 50)
    # avg over the last minute of all samples equals numpy's mean.
    assert diag.evidence[0].observed == pytest.approx(values.mean())


def test_integer_millisecond_timestamps_and_per_row_labels(cpu_engine: healbot.Engine) -> None:
    api, web, nowhere = {"service": "api"}, {"service": "web"}, {"service": "nowhere"}
    values = np.array([0.95, 0.1, 0.99, 0.97], dtype=np.float32)
    times = np.array([T0 * 1000, T0 * 1000, T0 * 1000 + 1, T0 * 1000 + 2], dtype=np.int64)
    report = cpu_engine.ingest_metrics(["cpu"] * 4, values, times, labels=[api, web, nowhere, api])
    assert report.observations == 4
    stats = cpu_engine.stats()
    assert stats["ingested_metrics"] == 3 and stats["unattached"] == {"unknown_node": 1}
    assert diagnosed(cpu_engine, T0 + 1) == [("cpu.hot", "api")]


def test_names_per_row_and_unread(cpu_engine: healbot.Engine) -> None:
    values = np.ones(6)
    names = ["cpu", "mem", "cpu", "mem", "mem", "cpu"]
    cpu_engine.ingest_metrics(names, values, T0, labels={"service": "db"})
    stats = cpu_engine.stats()
    assert stats["ingested_metrics"] == 3 and stats["dropped"] == {"not_read": 3}


def test_buffer_protocol_without_numpy(cpu_engine: healbot.Engine) -> None:
    values = array.array("d", [0.99] * 10)
    times = array.array("q", [int(T0 * 1000) + i for i in range(10)])
    assert cpu_engine.ingest_metrics("cpu", values, times, {"service": "api"}).observations == 10
    assert cpu_engine.ingest_metrics("cpu", memoryview(values), memoryview(times), {"service": "web"}).observations == 10
    ints = array.array("i", [1, 2, 3])
    assert cpu_engine.ingest_metrics("cpu", ints, T0, {"service": "db"}).observations == 3
    assert cpu_engine.stats()["ingested_metrics"] == 23
    assert diagnosed(cpu_engine, T0 + 1) == [("cpu.hot", "api"), ("cpu.hot", "db"), ("cpu.hot", "web")]


def test_strided_views_are_read_in_place(cpu_engine: healbot.Engine) -> None:
    base = np.zeros((4, 2))
    base[:, 1] = 0.99
    column = base[:, 1]
    assert not column.flags["C_CONTIGUOUS"]
    cpu_engine.ingest_metrics("cpu", column, T0, {"service": "api"})
    [diag] = cpu_engine.diagnose(at=T0)
    assert diag.evidence[0].observed == pytest.approx(0.99)
    reversed_times = (T0 + np.arange(4.0))[::-1]
    assert cpu_engine.ingest_metrics("cpu", column, reversed_times, {"service": "api"}).dropped == 0


def test_no_copy_and_buffer_released(cpu_engine: healbot.Engine) -> None:
    values = bytearray(np.full(8, 0.99).tobytes())
    view = memoryview(values).cast("d")
    cpu_engine.ingest_metrics("cpu", view, T0, {"service": "api"})
    view.release()
    values.extend(b"\0" * 8)  # resizing fails while any buffer export is still held


def test_timestamps_scalar_forms(cpu_engine: healbot.Engine) -> None:
    from datetime import datetime, timezone

    values = np.full(3, 0.99)
    cpu_engine.ingest_metrics("cpu", values, datetime.fromtimestamp(T0, timezone.utc), {"service": "api"})
    cpu_engine.ingest_metrics("cpu", values, int(T0), {"service": "api"})
    cpu_engine.ingest_metrics("cpu", values, None, {"service": "web"})
    assert cpu_engine.stats()["ingested_metrics"] == 9
    with pytest.raises(healbot.InvalidArgumentError, match="naive"):
        cpu_engine.ingest_metrics("cpu", values, datetime(2024, 1, 1), {"service": "api"})


def test_bad_timestamps_are_counted(cpu_engine: healbot.Engine) -> None:
    values = np.full(3, 0.99)
    times = np.array([T0, np.nan, np.inf])
    report = cpu_engine.ingest_metrics("cpu", values, times, {"service": "api"})
    assert report.dropped == 2 and "2 samples" in report.errors[0]


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        (np.ones((2, 2)), ValueError, "one-dimensional"),
        (np.array(["a", "b"]), TypeError, "not a native number"),
        (np.ones(2, dtype=np.complex128), TypeError, "not a native number"),
        (np.ones(2, dtype=">f8"), TypeError, "not a native number"),
        ([1.0, 2.0], TypeError, "numeric buffer"),
        ("12", TypeError, "numeric buffer"),
    ],
)
def test_bad_columns(cpu_engine: healbot.Engine, values: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        cpu_engine.ingest_metrics("cpu", values, T0, {"service": "api"})


def test_length_mismatches(cpu_engine: healbot.Engine) -> None:
    with pytest.raises(ValueError, match="timestamps: 2 items for 3 values"):
        cpu_engine.ingest_metrics("cpu", np.ones(3), np.ones(2), {"service": "api"})
    with pytest.raises(ValueError, match="names: 2 items for 3 values"):
        cpu_engine.ingest_metrics(["cpu", "cpu"], np.ones(3), T0, {"service": "api"})
    with pytest.raises(ValueError, match="labels: 1 items for 3 values"):
        cpu_engine.ingest_metrics("cpu", np.ones(3), T0, [{"service": "api"}])
    with pytest.raises(TypeError):
        cpu_engine.ingest_metrics([1, 2, 3], np.ones(3), T0, {"service": "api"})  # type: ignore[list-item]


def test_series_limit_in_batch(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    engine = healbot.Engine(cpu_library, small_topology, {"max_series": 1})
    labels = [{"service": "api"}, {"service": "web"}, {"service": "web"}]
    report = engine.ingest_metrics("cpu", np.ones(3), T0, labels)
    assert report.dropped == 2
    assert engine.stats()["ingested_metrics"] == 1


def test_batch_matches_scalar(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    rng = np.random.default_rng(7)
    n = 500
    values = rng.uniform(0.8, 1.0, n)
    times = T0 + np.sort(rng.uniform(0, 60, n))
    services = [{"service": s} for s in ("api", "web", "db")]
    labels = [services[i % 3] for i in range(n)]
    batch = healbot.Engine(cpu_library, small_topology)
    batch.ingest_metrics("cpu", values, times, labels)
    scalar = healbot.Engine(cpu_library, small_topology)
    for v, t, lab in zip(values.tolist(), times.tolist(), labels):
        scalar.ingest_metric("cpu", v, lab, at=t)
    assert [d.to_json() for d in batch.diagnose(at=T0 + 60)] == [d.to_json() for d in scalar.diagnose(at=T0 + 60)]
    assert batch.snapshot() == scalar.snapshot()


def test_series_codes(cpu_engine: healbot.Engine) -> None:
    services = [{"service": s} for s in ("api", "web", "db", "nowhere")]
    n = 4000
    codes = np.arange(n, dtype=np.int32) % 4
    values = np.full(n, 0.95)
    times = T0 + np.arange(n) * 0.01
    report = cpu_engine.ingest_metrics("cpu", values, times, services, series=codes)
    assert (report.observations, report.dropped) == (n, 0)
    stats = cpu_engine.stats()
    assert stats["ingested_metrics"] == 3000 and stats["unattached"] == {"unknown_node": 1000}
    assert diagnosed(cpu_engine, T0 + 40) == [("cpu.hot", "api"), ("cpu.hot", "db"), ("cpu.hot", "web")]
    names = ["cpu", "mem"]
    report = cpu_engine.ingest_metrics(names, np.ones(4), T0, [services[0], services[1]], series=np.array([0, 1, 1, 5]))
    assert report.dropped == 1 and "series code out of range" in report.errors[0]
    with pytest.raises(ValueError, match="names and labels"):
        cpu_engine.ingest_metrics(["cpu"] * 3, np.ones(4), T0, services, series=np.zeros(4, dtype=np.int64))
    with pytest.raises(TypeError, match="integer column"):
        cpu_engine.ingest_metrics("cpu", np.ones(4), T0, services, series=np.zeros(4))
    with pytest.raises(ValueError, match="series: 3 items for 4 values"):
        cpu_engine.ingest_metrics("cpu", np.ones(4), T0, services, series=np.zeros(3, dtype=np.int64))


def test_series_set_after_a_reload_stores_what_the_new_library_reads(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    # Series resolved to none (not read) are counted in one go per series;
    # once a reload makes their metric read, their samples are stored.
    engine = healbot.Engine(cpu_library, small_topology)
    series = engine.resolve_series_set(["mem", "mem"], [{"service": "api"}, {"service": "db"}])
    assert series.resolved == 0
    engine.ingest_series_set(series, np.array([0.99, 0.5]), T0)
    assert engine.stats()["dropped"] == {"not_read": 4} and engine.stats()["ingested_metrics"] == 0
    reads_mem = healbot.Library.from_text(
        CPU_LIBRARY.replace("name: cpu, agg", "name: mem, agg"), name="mem.yaml"
    )
    engine.reload_library(reads_mem)
    for r in range(4):
        engine.ingest_series_set(series, np.array([0.99, 0.5]), T0 + 1 + 15 * r)
    stats = engine.stats()
    assert stats["dropped"] == {"not_read": 4} and stats["ingested_metrics"] == 8
    assert diagnosed(engine, T0 + 50) == [("cpu.hot", "api")]


def test_series_set(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    engine = healbot.Engine(cpu_library, small_topology)
    services = [{"service": s} for s in ("api", "web", "db", "nowhere")]
    names = ["cpu", "cpu", "cpu", "cpu", "mem"]
    series = engine.resolve_series_set(names, [*services, services[0]])
    assert len(series) == 5 and series.resolved == 3 and "3 stored" in repr(series)
    for r in range(4):
        report = engine.ingest_series_set(series, np.array([0.95, 0.5, 0.99, 1.0, 7.0]), T0 + 15 * r)
        assert (report.observations, report.dropped) == (5, 0)
    stats = engine.stats()
    assert stats["ingested_metrics"] == 12
    # Counted once when resolved (by the core's resolve_series), then once per sample.
    assert stats["unattached"] == {"unknown_node": 5} and stats["dropped"] == {"not_read": 5}
    assert diagnosed(engine, T0 + 45) == [("cpu.hot", "api"), ("cpu.hot", "db")]
    codes = np.array([1, 1, 9, -1], dtype=np.int64)
    report = engine.ingest_series_set(series, np.full(4, 0.99), T0 + 50, codes=codes)
    assert report.dropped == 2 and "series code" in report.errors[0]
    assert engine.stats()["ingested_metrics"] == 14
    with pytest.raises(ValueError, match="a set of 5 series"):
        engine.ingest_series_set(series, np.ones(3), T0)
    with pytest.raises(healbot.InvalidArgumentError, match="another engine"):
        healbot.Engine(cpu_library, small_topology).ingest_series_set(series, np.ones(5), T0)
    with pytest.raises(ValueError, match="names and labels"):
        engine.resolve_series_set(["cpu", "cpu"], services)
    assert len(engine.resolve_series_set("cpu", {"service": "api"})) == 1
    limited = healbot.Engine(cpu_library, small_topology, {"max_series": 2})
    with pytest.raises(healbot.LimitExceeded, match="rejected 1 of 3"):
        limited.resolve_series_set("cpu", services[:3])


def test_series_set_label_dicts(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    """Rows with equal labels in distinct dicts, in one shared dict, or as a
    mapping resolve alike; label keys and values must be str."""

    class Labels(dict[str, str]):
        pass

    class Text(str):
        pass

    rows = 300
    distinct = [{"service": ("api", "web", "db")[i % 3], "instance": f"i-{i}"} for i in range(rows)]
    subclassed = [Labels({Text("service"): Text(d["service"]), "instance": d["instance"]}) for d in distinct]
    for labels in (distinct, subclassed):
        engine = healbot.Engine(cpu_library, small_topology)
        series = engine.resolve_series_set(["cpu"] * rows, labels)
        assert (len(series), series.resolved) == (rows, rows)
        engine.ingest_series_set(series, np.full(rows, 0.99), T0)
        assert engine.stats()["ingested_metrics"] == rows
    shared = {"service": "api"}
    engine = healbot.Engine(cpu_library, small_topology)
    assert engine.resolve_series_set(["cpu", "mem"] * 50, [shared] * 100).resolved == 50
    engine = healbot.Engine(cpu_library, small_topology)
    with pytest.raises(TypeError, match="every label value must be a str, got int"):
        engine.resolve_series_set(["cpu", "cpu"], [{"service": "api"}, {"service": 3}])  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="every label key must be a str, got bytes"):
        engine.resolve_series_set("cpu", [{b"service": "api"}])  # type: ignore[dict-item]
    with pytest.raises(healbot.InvalidArgumentError, match="label value '\\\\ud800' is not valid Unicode"):
        engine.resolve_series_set("cpu", [{"service": "\ud800"}])
    with pytest.raises(TypeError, match="expected a mapping of str to str or None, got int"):
        engine.resolve_series_set("cpu", [3])  # type: ignore[list-item]


def test_per_row_values_made_on_the_fly_are_not_confused(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    """Per-row names and labels whose objects are made as they are read (a
    numpy str array makes a new str per item, a generator may free each
    item before the next) go to their own series: a freed item's address,
    reused by the next one, must not pass for the same value."""
    rows = 6
    names_column = np.array(["cpu", "mem"] * (rows // 2))
    expected = healbot.Engine(cpu_library, small_topology)
    expected.ingest_metrics(["cpu", "mem"] * (rows // 2), np.full(rows, 0.99), T0, {"service": "api"})
    want = expected.stats()
    assert want["ingested_metrics"] == 3 and want["dropped"] == {"not_read": 3}

    engine = healbot.Engine(cpu_library, small_topology)
    engine.ingest_metrics(names_column, np.full(rows, 0.99), T0, {"service": "api"})
    assert engine.stats() == want

    engine = healbot.Engine(cpu_library, small_topology)
    names = ("".join(("cp", "u")) if i % 2 == 0 else "".join(("me", "m")) for i in range(rows))
    engine.ingest_metrics(names, np.full(rows, 0.99), T0, {"service": "api"})
    assert engine.stats() == want

    # Labels made per row: api and web alternate, nothing else.
    engine = healbot.Engine(cpu_library, small_topology)
    labels = ({"service": "".join(("ap", "i")) if i % 2 == 0 else "".join(("we", "b"))} for i in range(rows))
    engine.ingest_metrics("cpu", np.full(rows, 0.99), T0, labels)
    assert engine.stats()["series"] == 2
    assert diagnosed(engine, T0) == [("cpu.hot", "api"), ("cpu.hot", "web")]

    engine = healbot.Engine(cpu_library, small_topology)
    series = engine.resolve_series_set(names_column, ({"service": s} for s in ("api", "web", "db") * 2))
    assert (len(series), series.resolved) == (rows, 3)
    engine.ingest_series_set(series, np.full(rows, 0.99), T0)
    # Each unread series counted once when resolved, then once per sample.
    assert engine.stats()["dropped"] == {"not_read": 6}
    assert diagnosed(engine, T0) == [("cpu.hot", "api"), ("cpu.hot", "db"), ("cpu.hot", "web")]


def test_rows_with_equal_label_dicts_share_their_labels(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    """Per-row dicts that are distinct objects but hold equal labels (strings
    made anew per row, keys in any order) go to one series, as one shared dict
    would; a key or a value that differs makes labels of its own; str and dict
    subclasses and large dicts convert on their own, to the same series."""

    class Labels(dict[str, str]):
        pass

    class Text(str):
        pass

    def row(service: str, instance: int, reverse: bool = False) -> dict[str, str]:
        pairs = [("service", "".join(service)), ("instance", f"{service}:{instance}")]
        return dict(reversed(pairs) if reverse else pairs)

    rows: list[dict[str, str]] = [
        row("api", 1),
        row("api", 1, reverse=True),
        row("web", 1),
        row("api", 2),
        Labels(row("api", 1)),
        {Text("service"): Text("api"), "instance": Text("api:1")},
        {"service": "api", "instance": "api:1", **{f"k{i}": "v" for i in range(9)}},
        {"service": "api", "instance": "api:1", **{f"k{i}": "v" for i in range(9)}},
        row("web", 1),
    ]
    n = len(rows)
    values = np.array([0.99, 0.99, 0.5, 0.99, 0.99, 0.99, 0.99, 0.99, 0.5])
    for per_row in (rows, list(reversed(rows))):
        engine = healbot.Engine(cpu_library, small_topology)
        series = engine.resolve_series_set(["cpu"] * n, per_row)
        assert (len(series), series.resolved) == (n, n)
        # api:1, web:1, api:2, and api:1 with nine more labels.
        assert engine.stats()["series"] == 4
        column = values if per_row is rows else values[::-1].copy()
        engine.ingest_series_set(series, column, T0)
        assert engine.stats()["ingested_metrics"] == n
        assert diagnosed(engine, T0) == [("cpu.hot", "api")]
        # The same rows through ingest_metrics: the same four series.
        engine = healbot.Engine(cpu_library, small_topology)
        engine.ingest_metrics("cpu", column, T0, per_row)
        assert engine.stats()["series"] == 4 and diagnosed(engine, T0) == [("cpu.hot", "api")]


def test_label_dicts_changed_after_their_row_keep_the_labels_of_their_row(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    """A row's labels are those its dict held when the row was read: a dict
    changed by a generator after its row was read neither changes that row
    nor lends its new contents to a later row's equal dict."""
    first = {"service": "web"}

    def rows() -> Any:
        yield first
        first["service"] = "api"
        yield {"service": "".join(("we", "b"))}
        yield {"service": "".join(("ap", "i"))}

    engine = healbot.Engine(cpu_library, small_topology)
    series = engine.resolve_series_set(["cpu"] * 3, rows())
    engine.ingest_series_set(series, np.array([0.5, 0.5, 0.99]), T0)
    assert engine.stats()["series"] == 2
    assert diagnosed(engine, T0) == [("cpu.hot", "api")]
