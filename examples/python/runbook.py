#!/usr/bin/env python3
"""A runbook in the shape SOAR platforms run: take an Alertmanager webhook,
ask HealBot what to do, and print what would be executed and why.

Nothing is executed here: a real runbook would call its orchestrator where
this one prints ``WOULD EXECUTE``, then report back with
``engine.record_execution(decision)`` and ``engine.record_outcome(decision, ok)``.

Usage:
    python examples/python/runbook.py [WEBHOOK] [--scrape METRICS.prom] [--at 2026-03-02T10:00:00Z]

The bundled webhook is named ``*.payload`` rather than ``*.json`` because
``healbot check examples/`` reads every ``*.json`` below it as a document.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

import healbot

HERE = Path(__file__).resolve().parent
SHOP = HERE.parent / "shop"


def parse_at(parser: argparse.ArgumentParser, text: str) -> datetime:
    """``--at`` as a timezone-aware datetime; anything else is a usage error."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parser.error(f"--at {text!r} is not an ISO 8601 time")
    if at.utcoffset() is None:
        parser.error(f"--at {text!r} has no time zone; add one, e.g. {text}Z or {text}+00:00")
    return at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("webhook", nargs="?", type=Path, default=HERE / "alertmanager-webhook.payload")
    parser.add_argument("--scrape", type=Path, help="Prometheus text exposition scraped with the alert")
    parser.add_argument("--at", help="evaluation time, ISO 8601 with a zone (default: now)")
    args = parser.parse_args(argv)

    library = healbot.Library.load(SHOP / "signatures.yaml", SHOP / "actions.yaml", SHOP / "overrides.yaml")
    topology = healbot.Topology.load(SHOP / "topology.yaml")
    engine = healbot.Engine(library, topology)

    at = parse_at(parser, args.at) if args.at else None
    report = engine.ingest_alertmanager(json.loads(args.webhook.read_text()))
    print(f"ingested {report.observations} alerts from {args.webhook.name}", end="")
    print(f" ({len(report.errors)} malformed)" if report.errors else "")
    if args.scrape:
        scraped = engine.ingest_prometheus_text(args.scrape.read_text(), at=at)
        print(f"ingested {scraped.observations} samples from {args.scrape.name}")

    decisions = engine.evaluate(at=at)
    if not decisions:
        print("nothing matched: no action")
        return 0
    for d in decisions:
        what = d.signature.title if d.signature else "undiagnosed shared dependency"
        print(f"\n[{d.verdict.upper()}] {what} on {d.node} (confidence {d.confidence.value:.0%})")
        if d.verdict == "execute" and d.action is not None:
            params = ", ".join(f"{k}={v}" for k, v in sorted(d.action.parameters.items()))
            print(f"  WOULD EXECUTE {d.action.operation} on {d.action.target} ({d.action.id}{'; ' + params if params else ''})")
        elif d.action is not None:
            print(f"  needs approval: {d.action.operation} on {d.action.target} ({d.action.id})")
        for reason in d.reasons:
            print(f"  because: {reason}")
        for rejected in d.rejected:
            for failure in rejected.failed:
                print(f"  rejected {rejected.id}: {failure.reason}")
        held = [e.predicate for e in d.evidence if e.satisfied]
        if held:
            print(f"  evidence: {'; '.join(held)}")
        for term in d.confidence.terms:
            print(f"  confidence {term.name:>9}: {term.value:+.2f}  {term.detail}")
        print(f"  {d.explanation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
