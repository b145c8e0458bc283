"""`Engine.ingest_logs`: many lines of one source in one call."""

from __future__ import annotations

import array
import json
import threading
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pytest

import healbot

from .conftest import T0

API = {"service": "api"}
OOM = "java.lang.OutOfMemoryError: Java heap space"


def logs_ingested(engine: healbot.Engine) -> int:
    ingested: dict[str, int] = engine.stats()["ingested"]
    return ingested.get("log", 0)


def oom_nodes(engine: healbot.Engine, at: float) -> list[str]:
    return sorted(d.node for d in engine.diagnose(at=at) if d.signature == "api.oom")


def test_a_bytes_blob_is_split_into_lines(cpu_engine: healbot.Engine) -> None:
    blob = f"GET / 200\n{OOM}\r\n{OOM}\n\nrequest done\n".encode()
    report = cpu_engine.ingest_logs(blob, API, at=T0)
    assert (report.observations, report.dropped, report.errors) == (5, 0, [])
    assert logs_ingested(cpu_engine) == 5
    assert oom_nodes(cpu_engine, T0 + 1) == ["api"]


def test_same_result_as_one_ingest_log_per_line(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    lines = [OOM if i % 3 == 0 else f"line {i}" for i in range(30)]
    one = healbot.Engine(cpu_library, small_topology)
    for i, line in enumerate(lines):
        one.ingest_log(line, API, at=T0 + i, severity="error")
    batch = healbot.Engine(cpu_library, small_topology)
    times = T0 + np.arange(len(lines), dtype=np.float64)
    assert batch.ingest_logs("\n".join(lines), API, at=times, severity="error").observations == 30
    assert batch.stats() == one.stats()
    assert [d.to_dict() for d in batch.diagnose(at=T0 + 40)] == [d.to_dict() for d in one.diagnose(at=T0 + 40)]
    assert batch.snapshot() == one.snapshot()


@pytest.mark.parametrize("kind", ["str", "bytes", "bytearray", "memoryview", "list[str]", "tuple[bytes]"])
def test_every_kind_of_lines(cpu_engine: healbot.Engine, kind: str) -> None:
    lines = [OOM, "fine", OOM]
    text = "\n".join(lines)
    args: dict[str, str | bytes | bytearray | memoryview | Sequence[str | bytes]] = {
        "str": text,
        "bytes": text.encode(),
        "bytearray": bytearray(text.encode()),
        "memoryview": memoryview(text.encode()),
        "list[str]": lines,
        "tuple[bytes]": tuple(line.encode() for line in lines),
    }
    assert cpu_engine.ingest_logs(args[kind], API, at=T0).observations == 3
    assert logs_ingested(cpu_engine) == 3
    assert oom_nodes(cpu_engine, T0 + 1) == ["api"]


def test_sequence_items_are_whole_records(cpu_engine: healbot.Engine) -> None:
    # A newline inside a sequence item does not split it.
    assert cpu_engine.ingest_logs([f"{OOM}\n{OOM}"], API, at=T0).observations == 1
    assert oom_nodes(cpu_engine, T0 + 1) == []
    assert cpu_engine.ingest_logs([OOM], API, at=T0).observations == 1
    assert oom_nodes(cpu_engine, T0 + 1) == ["api"]


def test_empty_and_blank_input(cpu_engine: healbot.Engine) -> None:
    assert cpu_engine.ingest_logs(b"", API, at=T0).observations == 0
    assert cpu_engine.ingest_logs([], API, at=T0).observations == 0
    assert cpu_engine.ingest_logs("\n", API, at=T0).observations == 1  # one empty line
    assert cpu_engine.ingest_logs("a\n\nb", API, at=T0).observations == 3
    assert logs_ingested(cpu_engine) == 4


def test_per_line_times(cpu_engine: healbot.Engine) -> None:
    ms = np.array([T0 * 1000, T0 * 1000 + 1, (T0 - 3600) * 1000], dtype=np.int64)
    cpu_engine.ingest_logs([OOM, OOM, OOM], API, at=ms)
    # The third line is an hour old: two in the last five minutes hold the threshold of two.
    assert oom_nodes(cpu_engine, T0 + 1) == ["api"]
    seconds = array.array("d", [T0, float("nan")])
    report = cpu_engine.ingest_logs([OOM, OOM], {"service": "web"}, at=seconds)
    assert report.dropped == 1 and report.errors == ["1 samples had a timestamp out of range"]
    with pytest.raises(ValueError, match="2 times for 3 lines"):
        cpu_engine.ingest_logs("a\nb\nc", API, at=np.array([T0, T0]))


def test_labels_severity_and_limits(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    engine = healbot.Engine(cpu_library, small_topology, {"max_log_line_len": 64})
    report = engine.ingest_logs([OOM, "x" * 65, OOM], API, at=T0, severity="error")
    assert (report.observations, report.dropped) == (3, 1)
    engine.ingest_logs([OOM], None, at=T0)
    engine.ingest_logs([OOM], {"service": "nowhere"}, at=T0)
    stats = engine.stats()
    assert stats["ingested"]["log"] == 2
    assert stats["unattached"] == {"no_attach_label": 1, "unknown_node": 1}
    assert stats["dropped"] == {"payload_limit": 1}
    with pytest.raises(healbot.InvalidArgumentError, match="severity"):
        engine.ingest_logs([OOM], API, at=T0, severity="loud")


def test_invalid_utf8_is_replaced_not_rejected(cpu_engine: healbot.Engine) -> None:
    blob = b"\xff\xfe " + OOM.encode() + b"\n" + OOM.encode() + b" \xc3\n"
    assert cpu_engine.ingest_logs(blob, API, at=T0).observations == 2
    assert oom_nodes(cpu_engine, T0 + 1) == ["api"]


def test_bad_arguments(cpu_engine: healbot.Engine) -> None:
    with pytest.raises(TypeError, match="lines: expected str, bytes"):
        cpu_engine.ingest_logs(3, API, at=T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="every line must be a str or bytes, got int"):
        cpu_engine.ingest_logs(["ok", 3], API, at=T0)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="label value"):
        cpu_engine.ingest_logs("x", {"service": 3}, at=T0)  # type: ignore[dict-item]
    with pytest.raises(healbot.InvalidArgumentError, match="naive"):
        from datetime import datetime

        cpu_engine.ingest_logs("x", API, at=datetime(2024, 1, 1))
    assert logs_ingested(cpu_engine) == 0


def test_threads_share_an_engine_while_the_gil_is_released(cpu_engine: healbot.Engine) -> None:
    blob = ("\n".join([OOM, "fine"] * 500) + "\n").encode()
    services = ["api", "web", "db", "batch"]

    def feed(service: str) -> None:
        for _ in range(20):
            cpu_engine.ingest_logs(blob, {"service": service}, at=T0)

    threads = [threading.Thread(target=feed, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert logs_ingested(cpu_engine) == 4 * 20 * 1000
    assert oom_nodes(cpu_engine, T0 + 1) == sorted(services)


def test_small_and_large_batches_agree(cpu_library: healbot.Library, small_topology: healbot.Topology) -> None:
    # Small batches keep the GIL, large ones release it: the same lines give the same state.
    lines = [OOM if i % 7 == 0 else f"request {i} done" for i in range(2000)]
    large = healbot.Engine(cpu_library, small_topology)
    assert large.ingest_logs("\n".join(lines), API, at=T0).observations == 2000
    small = healbot.Engine(cpu_library, small_topology)
    for start in range(0, len(lines), 10):
        small.ingest_logs("\n".join(lines[start : start + 10]), API, at=T0)
    assert small.stats() == large.stats()
    assert small.snapshot() == large.snapshot()


def test_ndjson_logs_are_ingested_as_one_ingest_log_each(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    # Records in the common shape, with escapes, unknown fields, RFC 3339 times,
    # unattached and malformed: the same counts and matches as ingest_log per record.
    ms = int(T0 * 1000)
    records: list[dict[str, object]] = [
        {"type": "log", "body": OOM, "attributes": {"service": "api"}, "at": ms},
        {"type": "log", "body": f'"quoted" {OOM}', "attributes": {"service": "api"}, "at": ms + 1},
        {"type": "log", "body": OOM, "attributes": {"service": "web", "pod": "w-1"}, "at": ms, "extra": [1]},
        {"type": "log", "body": "caf\u00e9 " + OOM, "attributes": {"service": "web"}, "at": "2023-11-14T22:13:20Z"},
        {"type": "log", "body": OOM, "attributes": {"service": "nowhere"}, "at": ms},
        {"type": "log", "body": OOM, "at": ms, "severity": "error"},
    ]
    payload = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + '\n{"type":"log","body":"x","at":1.5}\n'
    streamed = healbot.Engine(cpu_library, small_topology)
    report = streamed.ingest_ndjson(payload.encode())
    assert (report.observations, report.dropped, len(report.errors)) == (6, 0, 1)
    assert report.errors[0].startswith("7:1: `at`")
    one = healbot.Engine(cpu_library, small_topology)
    for r in records:
        labels = r.get("attributes")
        at = r["at"]
        at_s = at / 1000 if isinstance(at, int) else datetime.fromisoformat(str(at).replace("Z", "+00:00"))
        one.ingest_log(str(r["body"]), labels, at=at_s)  # type: ignore[arg-type]
    expected = one.stats()
    expected["dropped"] = {"malformed": 1}
    assert streamed.stats() == expected
    assert streamed.stats()["ingested"] == {"log": 4}
    assert streamed.stats()["unattached"] == {"no_attach_label": 1, "unknown_node": 1}
    assert oom_nodes(streamed, T0 + 1) == oom_nodes(one, T0 + 1) == ["api", "web"]
