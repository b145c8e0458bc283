"""One engine shared by many Python threads; long calls release the GIL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import healbot

from .conftest import T0

# No `for:` timers: decisions then depend only on the data, not on how the
# evaluations of different threads interleaved.
LIBRARY = """\
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: threads}
spec:
  signatures:
    - id: errors.high
      title: Errors high
      category: errors
      severity: critical
      match: {metric: {name: error_ratio, agg: avg, window: 5m, op: ">", threshold: 0.2}}
      evidence:
        - id: slow
          when: {metric: {name: latency_seconds, agg: max, window: 5m, op: ">", threshold: 1}}
          weight: 1.0
        - id: pool
          when: {log: {contains_any: ["timeout waiting for connection"], window: 5m, threshold: 10}}
          weight: 0.5
      actions: [restart]
---
apiVersion: healbot.dev/v1
kind: ActionLibrary
metadata: {name: actions}
spec:
  actions:
    - {id: restart, title: Restart, operation: restart, risk: low, min_confidence: 0.5}
"""

SERVICES = ["web", "api", "db", "batch"]


def feed(engine: healbot.Engine, service: str, worker: int, rounds: int) -> list[list[healbot.Decision]]:
    """Ingests this worker's own series (scalar, handle, batch and log paths), evaluating as it goes."""
    seen = []
    labels = {"service": service, "worker": str(worker)}
    handle = engine.resolve_series("latency_seconds", labels)
    assert handle is not None
    ratio = 0.1 + 0.05 * worker
    for r in range(rounds):
        t = T0 + r
        engine.ingest_metric("error_ratio", ratio, labels, at=t)
        engine.ingest_series(handle, 2.0, at=t)
        engine.ingest_metrics("error_ratio", np.full(4, ratio), t + np.arange(4) * 0.1, labels)
        engine.ingest_log("timeout waiting for connection", labels, at=t)
        if r % 10 == 0:
            seen.append(engine.evaluate(at=t))
    return seen


def test_thread_pool_hammering_ingest_and_evaluate(small_topology: healbot.Topology) -> None:
    library = healbot.Library.from_text(LIBRARY)
    engine = healbot.Engine(library, small_topology)
    rounds, workers = 120, 12
    jobs = [(SERVICES[w % len(SERVICES)], w) for w in range(workers)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(feed, engine, svc, w, rounds) for svc, w in jobs]
        results = [f.result() for f in futures]
    stats = engine.stats()
    assert stats["ingested_metrics"] == workers * rounds * 6
    assert stats["ingested"]["log"] == workers * rounds
    assert stats["series"] == workers * 2
    assert stats["evaluations"] == workers * (rounds // 10)
    for decisions_over_time in results:
        for decisions in decisions_over_time:
            assert all(isinstance(d, healbot.Decision) for d in decisions)
            assert [d.node for d in decisions] == sorted(d.node for d in decisions)
    # The shared engine ends in the same state as one fed serially.
    serial = healbot.Engine(library, small_topology)
    for svc, w in jobs:
        feed(serial, svc, w, rounds)
    at = T0 + rounds
    final = engine.evaluate(at=at)

    def content(decisions: list[healbot.Decision]) -> list[dict[str, object]]:
        # Onsets (and the ids made from them) record which evaluation first saw
        # a match, which depends on how the threads interleaved; the rest must not.
        docs = [d.to_dict() for d in decisions]
        for doc in docs:
            for key in ("id", "onset", "explanation"):
                doc.pop(key)
        return docs

    assert content(final) == content(serial.evaluate(at=at))
    # Workers 3.. have ratios above 0.2, on every service.
    assert {d.node for d in final} == set(SERVICES)
    assert all(d.action is not None and d.action.id == "restart" for d in final if d.verdict == "execute")


def test_long_calls_release_the_gil(cpu_engine: healbot.Engine) -> None:
    n = 2_000_000
    values = np.full(n, 0.5)
    times = T0 + np.arange(n) * 1e-5
    stamps: list[float] = []
    stop = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0)  # no GIL needed while sleeping: keeps the list short

    spinner = threading.Thread(target=spin)
    spinner.start()
    started.wait()
    try:
        start = time.perf_counter()
        cpu_engine.ingest_metrics("cpu", values, times, {"service": "api"})
        end = time.perf_counter()
    finally:
        stop.set()
        spinner.join()
    margin = 0.01  # switching into the call may take one switch interval (5 ms)
    inside = [t for t in stamps if start + margin < t < end - margin]
    assert end - start > 4 * margin, "the call was too quick to tell"
    # Had the call held the GIL, the spinner could not have run inside it.
    assert inside, (len(stamps), end - start)


def test_threads_read_the_same_decisions(shop_engine: healbot.Engine) -> None:
    """The root cause a decision makes on first read is made once whichever
    thread reads first; every thread reads equal values."""
    from .conftest import redis_outage

    fresh = redis_outage(shop_engine)
    barrier = threading.Barrier(8)

    def read(_: int) -> list[list[tuple[str, str, str, str]]]:
        barrier.wait()
        return [
            [(d.node, d.verdict, d.signature.id if d.signature else "", d.root_cause.role) for d in fresh]
            for _ in range(50)
        ]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(read, range(8)))
    docs = [d.to_dict() for d in fresh]
    first = [(doc["node"], doc["verdict"], doc.get("signature", {}).get("id", ""), doc["root_cause"]["role"]) for doc in docs]
    assert all(r == first for rs in results for r in rs)
    assert all(d.root_cause is d.root_cause for d in fresh)


def test_racing_reloads_leave_the_library_the_engine_runs(
    shop_engine: healbot.Engine, shop_library: healbot.Library
) -> None:
    """Threads reloading two libraries in turn, and pickling, end with
    `library` naming the library the engine runs (its snapshots say which),
    and every pickle restores: a snapshot is never paired with the other
    library."""
    import pickle

    from .conftest import SHOP

    tuned = healbot.Library.load(SHOP / "signatures.yaml", SHOP / "actions.yaml")
    libraries = [shop_library, tuned]

    def reload(k: int) -> None:
        for i in range(40):
            shop_engine.reload_library(libraries[(i + k) % 2])

    def pickle_round_trip(_: int) -> str:
        clone: healbot.Engine = pickle.loads(pickle.dumps(shop_engine))
        return clone.library.revision

    with ThreadPoolExecutor(max_workers=6) as pool:
        reloads = [pool.submit(reload, k) for k in range(4)]
        pickles = [pool.submit(pickle_round_trip, k) for k in range(40)]
        for f in reloads:
            f.result()
        revisions = {f.result() for f in pickles}
    assert revisions <= {shop_library.revision, tuned.revision}
    running = shop_engine.snapshot()[10:26].decode()
    assert shop_engine.library.revision == running
