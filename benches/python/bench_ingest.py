#!/usr/bin/env python3
"""Benchmarks of the Python package, in one run:

1. Scalar call overhead: ``Engine.ingest_metric`` and ``Engine.ingest_series``
   called N times from a Python loop, against the same N calls made from
   Rust (``_core_ingest_metric_loop`` for ``ingest_metric``; a columnar batch
   into one series for the handle path). Overhead = Python per call - the
   Python ``for`` loop alone - the Rust call.
2. Batch throughput: ``Engine.ingest_metrics`` over numpy columns, samples/s.
3. End to end against a pure-Python baseline written the way a runbook
   author would (stdlib ``re`` for log signatures, ``networkx`` for
   dependencies and blast radius, deques for windows) on the same scenario:
   a generated topology, a database outage cascading to its dependents,
   metrics arriving as numpy columns, an evaluation every 15 s, and the same
   log lines two ways: as one NDJSON payload of records per round (each
   carrying its service), and as one blob of plain lines per service and
   round (``Engine.ingest_logs``; the baseline reads the same blobs). Both
   must name the same root cause and the same symptoms.
4. Where HealBot's end-to-end time goes, phase by phase, and what turning
   the decisions into dicts and JSON costs.

Every figure is the median (and the best) of several runs, by the wall
clock, or with ``--cpu-time`` by the process's CPU time (steadier when the
machine is busy with other work).

Build the extension in release mode first (the abi3-py310 wheel, which pip
picks on 3.10+; see healbot-py/Cargo.toml), then run:

    HEALBOT_PY_RELEASE=1 HEALBOT_PY_FEATURES=py310 ./scripts/test-python.sh -q
    .venv/bin/pip install networkx==3.6.1                   # the baseline only
    .venv/bin/python benches/python/bench_ingest.py [--quick] [--cpu-time]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import healbot
from healbot import _native

T0 = 1_700_000_000.0


class Timing:
    """Wall-clock times of repeated runs of one thing, in seconds."""

    def __init__(self, times: list[float]) -> None:
        self.times = sorted(times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        """The fastest run (the least disturbed by other load)."""
        return self.times[0]

    def __truediv__(self, n: float) -> Timing:
        return Timing([t / n for t in self.times])


CLOCK: Callable[[], float] = time.perf_counter
"""The clock `timed` and the phase profile read (`--cpu-time`: the process's CPU time)."""


def timed(fn: Callable[[], object], repeat: int) -> Timing:
    """Runs `fn` `repeat` times."""
    times = []
    for _ in range(repeat):
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return Timing(times)


# ---------------------------------------------------------------- 1. scalar

SCALAR_LIBRARY = """\
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: bench}
spec:
  signatures:
    - id: cpu.hot
      title: CPU hot
      category: saturation
      severity: warning
      match: {metric: {name: cpu, agg: avg, window: 1m, op: ">", threshold: 0.9}}
"""

SCALAR_TOPOLOGY = """\
apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: bench}
spec:
  nodes:
    - {id: api, kind: service}
"""


def bench_scalar(n: int, repeat: int) -> dict[str, Timing]:
    library = healbot.Library.from_text(SCALAR_LIBRARY)
    topology = healbot.Topology.from_text(SCALAR_TOPOLOGY)

    def fresh() -> healbot.Engine:
        return healbot.Engine(library, topology)

    labels = {"service": "api", "instance": "10.0.0.1:9100"}
    values = [0.5] * n
    times = [T0 + i / 1000 for i in range(n)]
    results: dict[str, Timing] = {}

    def loop_only() -> None:
        for v, t in zip(values, times):
            pass

    results["python for-loop alone"] = timed(loop_only, repeat) / n

    def py_metric() -> None:
        engine = fresh()
        ingest = engine.ingest_metric
        for v, t in zip(values, times):
            ingest("cpu", v, labels, t)

    def rust_metric() -> None:
        engine = fresh()
        _native._core_ingest_metric_loop(engine, "cpu", 0.5, labels, T0, n)

    results["ingest_metric from Python"] = timed(py_metric, repeat) / n
    results["ingest_metric in Rust (same call)"] = timed(rust_metric, repeat) / n

    def py_series() -> None:
        engine = fresh()
        handle = engine.resolve_series("cpu", labels)
        assert handle is not None
        ingest = engine.ingest_series
        for v, t in zip(values, times):
            ingest(handle, v, t)

    values_np = np.array(values)
    times_np = np.array(times)

    def rust_series() -> None:
        engine = fresh()
        engine.ingest_metrics("cpu", values_np, times_np, labels)

    results["ingest_series from Python"] = timed(py_series, repeat) / n
    results["ingest by handle in Rust (batch of the same N)"] = timed(rust_series, repeat) / n
    return results


# ---------------------------------------------------------------- 2. batch


def bench_batch(n: int, series: int, repeat: int) -> dict[str, Timing]:
    library = healbot.Library.from_text(SCALAR_LIBRARY)
    topology = healbot.Topology.from_text(SCALAR_TOPOLOGY)
    labels = [{"service": "api", "instance": f"10.0.{i // 256}.{i % 256}:9100"} for i in range(series)]
    rounds = n // series
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 1, rounds * series)
    # Scrape order: every series once per 15 s round.
    codes = np.tile(np.arange(series, dtype=np.int32), rounds)
    times_s = T0 + np.repeat(np.arange(rounds, dtype=np.float64) * 15.0, series)
    times_ms = (times_s * 1000).astype(np.int64)
    # Series-major order: each series' samples contiguous.
    codes_blocked = np.repeat(np.arange(series, dtype=np.int32), rounds)
    times_blocked = T0 + np.tile(np.arange(rounds, dtype=np.float64) * 15.0, series)
    out: dict[str, Timing] = {}

    def run(times: np.ndarray[Any, Any], codes: np.ndarray[Any, Any]) -> Callable[[], None]:
        def go() -> None:
            engine = healbot.Engine(library, topology, {"max_samples_per_series": 512})
            report = engine.ingest_metrics("cpu", values, times, labels, series=codes)
            assert report.dropped == 0, report

        return go

    total = rounds * series
    out["scrape order, float seconds"] = timed(run(times_s, codes), repeat) / total
    out["scrape order, int64 milliseconds"] = timed(run(times_ms, codes), repeat) / total
    out["series-major order"] = timed(run(times_blocked, codes_blocked), repeat) / total
    small = min(total, 1_000_000)
    per_row = [labels[c] for c in codes[:small].tolist()]

    def per_row_dicts() -> None:
        engine = healbot.Engine(library, topology, {"max_samples_per_series": 512})
        engine.ingest_metrics("cpu", values[:small], times_s[:small], per_row)

    out["one dict per row (no series codes)"] = timed(per_row_dicts, repeat) / small
    return out


# ---------------------------------------------------------------- 3. end to end

LOG_SIGNATURES = [
    ("oom", "resource", ["OutOfMemoryError", "Killed process"]),
    ("fd", "resource", ["Too many open files"]),
    ("disk", "resource", ["No space left on device"]),
    ("cert", "configuration", ["certificate has expired", "x509: certificate"]),
    ("deadlock", "errors", ["deadlock detected"]),
    ("segv", "unavailable", ["segmentation fault", "SIGSEGV"]),
    ("panic", "unavailable", ["panic: runtime error"]),
    ("dns", "errors", ["no such host", "SERVFAIL"]),
    ("tls", "errors", ["tls: handshake failure"]),
    ("quota", "resource", ["quota exceeded", "rate limit exceeded"]),
    ("gc", "latency", ["GC overhead limit exceeded"]),
    ("thread", "saturation", ["unable to create new native thread"]),
    ("broken_pipe", "errors", ["broken pipe"]),
    ("readonly", "errors", ["read-only file system"]),
    ("auth", "configuration", ["authentication failed for user"]),
    ("schema", "deployment", ["relation does not exist", "column does not exist"]),
    ("kafka", "errors", ["NOT_LEADER_FOR_PARTITION"]),
    ("grpc", "unavailable", ["code = Unavailable"]),
    ("stack", "errors", ["StackOverflowError"]),
    ("nullptr", "errors", ["NullPointerException"]),
]
POOL_WORDS = ["pool exhausted", "timeout waiting for connection", "too many clients"]
REFUSED_WORDS = ["connection refused", "ECONNREFUSED"]
UNREAD_METRICS = [f"process_metric_{i}" for i in range(12)]


def e2e_library() -> str:
    """The scenario's library, shared with the Rust fixture ``healbot_benches::cascade``:
    the three signatures the outage trips, one per LOG_SIGNATURES entry, and the actions."""
    return (Path(__file__).resolve().parent.parent / "data" / "e2e-library.yaml").read_text()


def e2e_topology(layers: int, width: int, databases: int) -> tuple[str, list[dict[str, Any]]]:
    """Services in layers, each calling three services of the next layer; the last layer calls databases."""
    nodes: list[dict[str, Any]] = []
    for layer in range(layers):
        for i in range(width):
            if layer + 1 < layers:
                deps = sorted({f"svc-{layer + 1}-{(i + k) % width}" for k in range(3)})
            else:
                deps = [f"db-{i % databases}"]
            tier = min(4, 1 + layer * 4 // layers)
            nodes.append({"id": f"svc-{layer}-{i}", "kind": "service", "tier": tier, "depends_on": deps})
    for d in range(databases):
        nodes.append({"id": f"db-{d}", "kind": "database", "tier": 1})
    doc = {"apiVersion": "healbot.dev/v1", "kind": "Topology", "metadata": {"name": "e2e"}, "spec": {"nodes": nodes}}
    return json.dumps(doc), nodes


class Scenario:
    """One outage, as the telemetry both implementations receive."""

    def __init__(self, layers: int, width: int, databases: int, rounds: int, logs_per_service: int) -> None:
        self.topology_text, self.nodes = e2e_topology(layers, width, databases)
        self.library_text = e2e_library()
        self.rounds = rounds
        services = [n["id"] for n in self.nodes if n["kind"] == "service"]
        dbs = [n["id"] for n in self.nodes if n["kind"] == "database"]
        self.failed = dbs[0]
        # Who is hit: every transitive dependent of the failed database.
        callers: dict[str, list[str]] = defaultdict(list)
        for n in self.nodes:
            for d in n.get("depends_on", []):
                callers[d].append(n["id"])
        hit: set[str] = set()
        todo = [self.failed]
        while todo:
            for c in callers[todo.pop()]:
                if c not in hit:
                    hit.add(c)
                    todo.append(c)
        self.hit = hit
        # Series: (name, node) for every service metric and database `up`.
        series: list[tuple[str, dict[str, str]]] = []
        for s in services:
            for name in ["error_ratio", "latency_p99", "pool_usage", *UNREAD_METRICS]:
                series.append((name, {"service": s, "instance": f"{s}:9100"}))
        for d in dbs:
            series.append(("up", {"service": d}))
        self.series_names = [name for name, _ in series]
        self.series_labels = [labels for _, labels in series]
        rng = np.random.default_rng(3)
        fault_round = rounds // 3
        self.scrapes: list[tuple[float, np.ndarray[Any, Any], np.ndarray[Any, Any], bytes]] = []
        self.streams: list[list[tuple[str, bytes]]] = []
        benign = [
            "GET /api/cart 200 12ms",
            "user session refreshed",
            "cache hit ratio 0.93",
            "request completed in 8ms",
        ]
        for r in range(rounds):
            t = T0 + 15 * r
            down = r >= fault_round
            values = np.empty(len(series))
            for i, (name, labels) in enumerate(series):
                node = labels["service"]
                if name == "up":
                    values[i] = 0.0 if (down and node == self.failed) else 1.0
                elif name == "error_ratio":
                    values[i] = 0.3 if (down and node in hit) else 0.01
                elif name == "latency_p99":
                    values[i] = 2.5 if (down and node in hit) else 0.2
                elif name == "pool_usage":
                    values[i] = 0.99 if (down and node in hit) else 0.4
                else:
                    values[i] = rng.uniform(0, 100)
            # Each round's log lines, as (service, body): every service's own, then the database's.
            records: list[tuple[str, str]] = []
            for s in services:
                for k in range(logs_per_service):
                    body = benign[(k + r) % len(benign)]
                    if down and s in hit and k % 4 == 0:
                        body = "timeout waiting for connection from pool" if k % 8 == 0 else "dial: connection refused"
                    if s.endswith("-7") and k == 1:
                        body = "java.lang.OutOfMemoryError: Java heap space"
                    records.append((s, body))
            if down:
                records.append((self.failed, "ECONNREFUSED"))
            codes = np.arange(len(series), dtype=np.int32)
            # The same lines two ways: one NDJSON payload of records that each carry their
            # service (a shipper's mixed batch), or one blob of plain lines per service
            # (a pod's or a file's stream, the way Loki, Fluent Bit or `kubectl logs` hand them over).
            ndjson = "".join(
                json.dumps({"type": "log", "body": body, "attributes": {"service": s}, "at": int(t * 1000)}) + "\n"
                for s, body in records
            ).encode()
            by_service: dict[str, list[str]] = defaultdict(list)
            for s, body in records:
                by_service[s].append(body)
            streams = [(s, ("\n".join(bodies) + "\n").encode()) for s, bodies in by_service.items()]
            self.scrapes.append((t, values, codes, ndjson))
            self.streams.append(streams)

    def log_lines(self) -> int:
        return sum(logs.count(b"\n") for _, _, _, logs in self.scrapes)


PHASES = ["setup", "resolve series", "metrics", "logs", "evaluate", "read decisions"]


def run_healbot(sc: Scenario, logs: str = "ndjson", phases: dict[str, float] | None = None) -> list[tuple[str, str, str]]:
    """HealBot on the scenario; `logs` is "ndjson" or "streams"; `phases` (when given)
    accumulates the seconds spent in each of PHASES."""
    clock = CLOCK
    spent = phases if phases is not None else dict.fromkeys(PHASES, 0.0)
    start = clock()
    library = healbot.Library.from_text(sc.library_text)
    topology = healbot.Topology.from_text(sc.topology_text, format="json")
    engine = healbot.Engine(library, topology)
    mark = clock()
    spent["setup"] += mark - start
    # The scrape's series are resolved once; each scrape is then one numeric column.
    series = engine.resolve_series_set(sc.series_names, sc.series_labels)
    start, mark = mark, clock()
    spent["resolve series"] += mark - start
    decided: list[tuple[str, str, str]] = []
    for (t, values, _codes, ndjson), streams in zip(sc.scrapes, sc.streams):
        engine.ingest_series_set(series, values, t)
        start, mark = mark, clock()
        spent["metrics"] += mark - start
        if logs == "ndjson":
            engine.ingest_ndjson(ndjson)
        else:
            for service, blob in streams:
                engine.ingest_logs(blob, {"service": service}, at=t)
        start, mark = mark, clock()
        spent["logs"] += mark - start
        decisions = engine.evaluate(at=t)
        start, mark = mark, clock()
        spent["evaluate"] += mark - start
        decided = [(d.node, d.signature.id if d.signature else "", d.root_cause.role) for d in decisions]
        start, mark = mark, clock()
        spent["read decisions"] += mark - start
    return sorted(decided)


def run_baseline(sc: Scenario, logs: str = "ndjson") -> list[tuple[str, str, str]]:
    """What a runbook author writes without HealBot (`logs` as in run_healbot)."""
    import networkx as nx

    doc = json.loads(sc.topology_text)
    graph = nx.DiGraph()
    kinds: dict[str, str] = {}
    tiers: dict[str, int] = {}
    for n in doc["spec"]["nodes"]:
        graph.add_node(n["id"])
        kinds[n["id"]] = n["kind"]
        tiers[n["id"]] = n.get("tier", 3)
        for d in n.get("depends_on", []):
            graph.add_edge(n["id"], d)
    log_rules = [(f"log.{sid}", re.compile("|".join(map(re.escape, words)))) for sid, _, words in LOG_SIGNATURES]
    pool_rx = re.compile("|".join(map(re.escape, POOL_WORDS)), re.IGNORECASE)
    refused_rx = re.compile("|".join(map(re.escape, REFUSED_WORDS)))
    read = {"up", "error_ratio", "latency_p99", "pool_usage"}
    windows: dict[tuple[str, str], deque[tuple[float, float]]] = defaultdict(deque)
    hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
    decisions: list[tuple[str, str, str]] = []

    def window(node: str, name: str, t: float, span: float) -> list[float]:
        return [v for (at, v) in windows[(node, name)] if t - span < at <= t]

    def count(node: str, rule: str, t: float, span: float) -> int:
        return sum(1 for at in hits[(node, rule)] if t - span < at <= t)

    def match(node: str, at: float, body: str) -> None:
        for rule, rx in log_rules:
            if rx.search(body):
                hits[(node, rule)].append(at)
        if pool_rx.search(body):
            hits[(node, "pool")].append(at)
        if refused_rx.search(body):
            hits[(node, "refused")].append(at)

    for (t, values, codes, ndjson), streams in zip(sc.scrapes, sc.streams):
        for code, v in zip(codes.tolist(), values.tolist()):
            name = sc.series_names[code]
            if name not in read:
                continue
            node = sc.series_labels[code]["service"]
            q = windows[(node, name)]
            q.append((t, v))
            while q and q[0][0] < t - 300:
                q.popleft()
        if logs == "ndjson":
            for line in ndjson.splitlines():
                rec = json.loads(line)
                node = rec["attributes"].get("service")
                if node in kinds:
                    match(node, rec["at"] / 1000, rec["body"])
        else:
            for node, blob in streams:
                if node in kinds:
                    for body in blob.decode().splitlines():
                        match(node, t, body)
        # Evaluate.
        diagnosed: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for node in graph.nodes:
            if kinds[node] == "database":
                ups = window(node, "up", t, 60)
                if ups and max(ups) < 1:
                    diagnosed[node].append(("db.unavailable", "unavailable"))
                continue
            errs = window(node, "error_ratio", t, 120)
            if errs and sum(errs) / len(errs) > 0.05:
                diagnosed[node].append(("svc.error_spike", "errors"))
            pool = window(node, "pool_usage", t, 120)
            if pool and max(pool) >= 0.95 and count(node, "pool", t, 300) >= 1:
                diagnosed[node].append(("svc.pool_exhausted", "saturation"))
            for rule, _ in log_rules:
                if count(node, rule, t, 300) >= 3:
                    diagnosed[node].append((rule, "other"))
        propagating = {"unavailable", "latency", "errors", "saturation"}
        unhealthy = {n for n, ds in diagnosed.items() if any(c in propagating for _, c in ds)}
        decisions = []
        for node, ds in diagnosed.items():
            deps = nx.descendants(graph, node)
            bad_deps = deps & unhealthy
            role = "symptom" if bad_deps else "root"
            # Blast radius and dependency guards for the remediation.
            radius = sum(8 >> (tiers[a] - 1) for a in nx.ancestors(graph, node))
            dbs_ok = all(d not in unhealthy for d in deps if kinds[d] == "database")
            _ = (radius, dbs_ok)
            for sig, _category in ds:
                decisions.append((node, sig, role))
    return sorted(decisions)


def check_same_verdicts(ours: list[tuple[str, str, str]], theirs: list[tuple[str, str, str]]) -> None:
    roots_ours = {(n, s) for n, s, r in ours if r == "root"}
    roots_theirs = {(n, s) for n, s, r in theirs if r == "root"}
    assert {n for n, _ in roots_ours} == {n for n, _ in roots_theirs}, (roots_ours, roots_theirs)
    assert {(n, s) for n, s, _ in ours} == {(n, s) for n, s, _ in theirs}


def bench_e2e(sc: Scenario, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "nodes": len(sc.nodes),
        "evaluations": sc.rounds,
        "metric samples": sum(len(v) for _, v, _, _ in sc.scrapes),
        "log lines": sc.log_lines(),
        "log signatures": len(LOG_SIGNATURES) + 2,
    }
    for logs in ["ndjson", "streams"]:
        ours = run_healbot(sc, logs)
        check_same_verdicts(ours, run_baseline(sc, logs))
        out["decisions (last evaluation)"] = len(ours)
        out["root causes"] = sorted({n for n, _, r in ours if r == "root"})
        t_ours = timed(lambda: run_healbot(sc, logs), repeat)
        t_theirs = timed(lambda: run_baseline(sc, logs), max(1, repeat // 2 + 1))
        out[f"logs as {logs}: healbot s"] = t_ours
        out[f"logs as {logs}: baseline s"] = t_theirs
        out[f"logs as {logs}: speed-up"] = t_theirs.median / t_ours.median
    return out


def profile_e2e(sc: Scenario, repeat: int) -> dict[str, dict[str, float]]:
    """Where HealBot's end-to-end time goes, per phase (median seconds over `repeat` runs),
    plus turning the last evaluation's decisions into dicts and JSON."""
    out: dict[str, dict[str, float]] = {}
    for logs in ["ndjson", "streams"]:
        runs = []
        for _ in range(repeat):
            phases = dict.fromkeys(PHASES, 0.0)
            run_healbot(sc, logs, phases)
            runs.append(phases)
        out[logs] = {k: statistics.median(r[k] for r in runs) for k in PHASES}
    engine = healbot.Engine(
        healbot.Library.from_text(sc.library_text), healbot.Topology.from_text(sc.topology_text, format="json")
    )
    series = engine.resolve_series_set(sc.series_names, sc.series_labels)
    decisions: list[healbot.Decision] = []
    for t, values, _codes, ndjson in sc.scrapes:
        engine.ingest_series_set(series, values, t)
        engine.ingest_ndjson(ndjson)
        decisions = engine.evaluate(at=t)
    out["results"] = {
        "decisions": float(len(decisions)),
        "to_dict() all": timed(lambda: [d.to_dict() for d in decisions], repeat).median,
        "to_json() all": timed(lambda: [d.to_json() for d in decisions], repeat).median,
    }
    return out


def main() -> int:
    global CLOCK
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time instead of the wall clock (steadier on a loaded machine; "
        "every timed call runs on the calling thread)",
    )
    args = parser.parse_args()
    quick = args.quick
    repeat = 3 if quick else 7
    if args.cpu_time:
        CLOCK = time.process_time
    ns = 1e9

    print(f"healbot {healbot.__version__}, Python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"clock: {'process CPU time' if args.cpu_time else 'wall'}; median and best of {repeat} runs")
    print("\n== 1. scalar ingest (ns per call)")
    scalar = bench_scalar(100_000 if quick else 1_000_000, repeat)
    for k, v in scalar.items():
        print(f"  {k:<48} median {v.median * ns:7.1f}   best {v.best * ns:7.1f}")
    overhead: dict[str, dict[str, float]] = {}
    for call, rust in [
        ("ingest_metric", "ingest_metric in Rust (same call)"),
        ("ingest_series", "ingest by handle in Rust (batch of the same N)"),
    ]:
        py, loop, core = scalar[f"{call} from Python"], scalar["python for-loop alone"], scalar[rust]
        overhead[call] = {
            "median ns": (py.median - loop.median - core.median) * ns,
            "best ns": (py.best - loop.best - core.best) * ns,
            "python/rust ratio": (py.median - loop.median) / core.median,
        }
        o = overhead[call]
        print(
            f"  => binding overhead, {call}: median {o['median ns']:6.1f} ns, best {o['best ns']:6.1f} ns; "
            f"the call from Python costs {o['python/rust ratio']:.2f}x the Rust call"
        )

    print("\n== 2. batch ingest_metrics (M samples/s)")
    batch = bench_batch(1_000_000 if quick else 10_000_000, 1000, repeat)
    for k, v in batch.items():
        print(f"  {k:<48} median {1 / v.median / 1e6:7.1f}   best {1 / v.best / 1e6:7.1f}")

    print("\n== 3. end to end vs pure Python (re + networkx)")
    sc = Scenario(layers=6, width=50 if quick else 100, databases=4, rounds=8 if quick else 20, logs_per_service=20)
    e2e = bench_e2e(sc, repeat)
    for k, v in e2e.items():
        if isinstance(v, Timing):
            print(f"  {k:<32} median {v.median:.4g} s, best {v.best:.4g} s")
        else:
            print(f"  {k:<32} {v:.4g}" if isinstance(v, float) else f"  {k:<32} {v}")
    print("\n== 4. where HealBot's end-to-end time goes (median ms over the whole run)")
    profile = profile_e2e(sc, repeat)
    for logs in ["ndjson", "streams"]:
        total = sum(profile[logs].values())
        parts = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in profile[logs].items())
        print(f"  logs as {logs:<8} total {total * 1e3:7.1f}: {parts}")
    r = profile["results"]
    print(
        f"  the last evaluation's {r['decisions']:.0f} decisions: to_dict() {r['to_dict() all'] * 1e3:.1f} ms, "
        f"to_json() {r['to_json() all'] * 1e3:.1f} ms"
    )
    summary = {
        "clock": "cpu" if args.cpu_time else "wall",
        "scalar_overhead": overhead,
        "scalar_ns_median": {k: v.median * ns for k, v in scalar.items()},
        "batch_samples_per_s_median": {k: 1 / v.median for k, v in batch.items()},
        "end_to_end": {k: (v.median if isinstance(v, Timing) else v) for k, v in e2e.items()},
        "profile_s": profile,
    }
    print("\n" + json.dumps(summary, default=str, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
