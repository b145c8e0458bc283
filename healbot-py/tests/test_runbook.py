"""The runbook example runs as users run it, and says what it would do and why."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

RUNBOOK = ROOT / "examples" / "python" / "runbook.py"


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(RUNBOOK), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stderr == ""
    return done.stdout


def test_runbook_prints_decision_and_why() -> None:
    out = run("--at", "2026-03-02T10:00:00Z")
    assert out.startswith("ingested 2 alerts from alertmanager-webhook.payload")
    assert "[ESCALATE] Crash loop on cartservice" in out
    assert "needs approval: rollback on cartservice (rollback_deploy)" in out
    assert "because: confidence 0.50 is below the 0.90" in out
    assert "evidence: alert KubePodCrashLooping firing" in out
    assert "confidence     prior" in out


def test_runbook_is_deterministic_with_scrape(tmp_path: object) -> None:
    from pathlib import Path

    scrape = Path(str(tmp_path)) / "scrape.prom"
    scrape.write_text('redis_up{service="redis-cart"} 0\nhttp_server_error_ratio{service="frontend"} 0.4\n')
    first = run("--at", "2026-03-02T10:00:00Z", "--scrape", str(scrape))
    assert "ingested 2 samples from scrape.prom" in first
    assert first == run("--at", "2026-03-02T10:00:00Z", "--scrape", str(scrape))


def test_runbook_before_the_alert_started() -> None:
    assert "nothing matched: no action" in run("--at", "2026-03-02T09:00:00+00:00")


def test_runbook_refuses_an_at_without_a_zone() -> None:
    """``--at`` must carry a zone, as the usage says: a naive or malformed
    time is a usage error (exit status 2 and a message), not a traceback."""
    for at, message in (("2026-03-02T10:00:00", "has no time zone"), ("yesterday", "not an ISO 8601 time")):
        done = subprocess.run(
            [sys.executable, "-W", "error", str(RUNBOOK), "--at", at],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and done.stdout == ""
        assert message in done.stderr and "Traceback" not in done.stderr
