"""Shared fixtures: the bundled shop example and small inline documents."""

from __future__ import annotations

from pathlib import Path

import pytest

import healbot

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
T0 = 1_700_000_000.0
"""A fixed epoch-seconds base time: tests never read the clock."""

CPU_LIBRARY = """\
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: lib}
spec:
  signatures:
    - id: cpu.hot
      title: CPU hot
      category: saturation
      severity: warning
      match: {metric: {name: cpu, agg: avg, window: 1m, op: ">", threshold: 0.9}}
    - id: api.oom
      title: Out of memory
      category: resource
      severity: critical
      match: {log: {contains_any: ["OutOfMemoryError"], window: 5m, threshold: 2}}
"""

SMALL_TOPOLOGY = """\
apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: t}
spec:
  nodes:
    - {id: web, kind: service, tier: 1, depends_on: [api]}
    - {id: api, kind: service, tier: 2, depends_on: [db], aliases: [api-v2]}
    - {id: db, kind: database, tier: 1}
    - {id: batch, kind: service, tier: 4}
"""


@pytest.fixture(scope="session")
def shop_library() -> healbot.Library:
    return healbot.Library.load(SHOP / "signatures.yaml", SHOP / "actions.yaml", SHOP / "overrides.yaml")


@pytest.fixture(scope="session")
def shop_topology() -> healbot.Topology:
    return healbot.Topology.load(SHOP / "topology.yaml")


@pytest.fixture()
def shop_engine(shop_library: healbot.Library, shop_topology: healbot.Topology) -> healbot.Engine:
    return healbot.Engine(shop_library, shop_topology)


@pytest.fixture(scope="session")
def cpu_library() -> healbot.Library:
    return healbot.Library.from_text(CPU_LIBRARY, name="cpu.yaml")


@pytest.fixture(scope="session")
def small_topology() -> healbot.Topology:
    return healbot.Topology.from_text(SMALL_TOPOLOGY, name="small.yaml")


@pytest.fixture()
def cpu_engine(cpu_library: healbot.Library, small_topology: healbot.Topology) -> healbot.Engine:
    return healbot.Engine(cpu_library, small_topology)


def redis_outage(engine: healbot.Engine, start: float = T0, steps: int = 13) -> list[healbot.Decision]:
    """Feeds the shop engine a redis-cart outage every 15 s, its dependents erroring and
    clients logging refusals, evaluating at each step as a runbook loop would.

    Returns:
        The decisions of the last step (at ``start + 15 * (steps - 1)``).
    """
    decisions: list[healbot.Decision] = []
    for step in range(steps):
        t = start + 15 * step
        engine.ingest_metric("redis_up", 0.0, {"service": "redis-cart"}, at=t)
        engine.ingest_log("dial tcp 10.0.0.7:6379: connection refused", {"service": "redis-cart"}, at=t)
        for svc in ("cartservice", "checkoutservice", "frontend"):
            engine.ingest_metric("http_server_error_ratio", 0.3, {"service": svc}, at=t)
        decisions = engine.evaluate(at=t)
    return decisions


def by_node(decisions: list[healbot.Decision]) -> dict[str, healbot.Decision]:
    return {d.node: d for d in decisions}
