"""A panic inside HealBot reaches Python as ``healbot.InternalError``.

PyO3 alone would raise ``pyo3_runtime.PanicException``, a ``BaseException``
that ``except healbot.HealbotError`` (or ``except Exception``) does not
catch. The hidden test hooks ``_native._test_panic`` and
``Engine._test_panic`` panic on purpose.
"""

from __future__ import annotations

import pytest

import healbot
from healbot import _native

from .conftest import T0


def test_a_panic_is_a_healbot_error_that_says_it_is_a_bug() -> None:
    try:
        _native._test_panic()
    except healbot.HealbotError as e:
        caught: healbot.HealbotError = e
    else:
        pytest.fail("_test_panic returned")
    assert type(caught) is healbot.InternalError
    assert isinstance(caught, Exception)
    assert "healbot._native._test_panic was called" in str(caught)
    assert "a bug in HealBot" in str(caught)
    assert caught.message == str(caught)
    assert caught.diagnostics == []


def test_an_engine_that_panicked_raises_internal_error_from_then_on(
    cpu_library: healbot.Library, small_topology: healbot.Topology
) -> None:
    engine = healbot.Engine(cpu_library, small_topology)
    engine.ingest_metric("cpu", 0.97, {"service": "api"}, at=T0)
    with pytest.raises(healbot.InternalError, match=r"Engine\._test_panic was called.*a bug in HealBot"):
        engine._test_panic()
    # Its state may be half-updated: every later call refuses, whichever
    # way it reaches the engine (with the GIL held, labelled, or detached).
    calls = (
        lambda: engine.ingest_metric("cpu", 0.5, {"service": "api"}, at=T0 + 1),
        lambda: engine.ingest_logs(["x"], {"service": "api"}, at=T0 + 1),
        lambda: engine.evaluate(at=T0 + 2),
        lambda: engine.snapshot(),
        lambda: engine.stats(),
    )
    for call in calls:
        with pytest.raises(healbot.HealbotError, match="the engine is unusable") as info:
            call()
        assert type(info.value) is healbot.InternalError
        assert info.value.diagnostics == []
    # The library and topology are immutable and stay usable.
    fresh = healbot.Engine(cpu_library, small_topology)
    fresh.ingest_metric("cpu", 0.97, {"service": "api"}, at=T0)
    assert [d.signature for d in fresh.diagnose(at=T0 + 1)] == ["cpu.hot"]
