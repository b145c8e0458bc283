"""The package surface: exports, typing marker, exception hierarchy."""

from __future__ import annotations

from pathlib import Path

import healbot
from healbot import _native


def test_all_exports_exist() -> None:
    for name in healbot.__all__:
        assert hasattr(healbot, name), name
    assert healbot.__version__ == healbot.ENGINE_VERSION
    assert healbot.DECISION_SCHEMA_VERSION >= 1


def test_py_typed_ships() -> None:
    assert (Path(healbot.__file__).parent / "py.typed").exists()
    assert (Path(healbot.__file__).parent / "_native.pyi").exists()


def test_exception_hierarchy() -> None:
    for exc in (
        healbot.LibraryError,
        healbot.TopologyError,
        healbot.TelemetryError,
        healbot.LimitExceeded,
        healbot.SnapshotError,
        healbot.InvalidArgumentError,
        healbot.InternalError,
    ):
        assert issubclass(exc, healbot.HealbotError)
        assert exc.__module__ == "healbot"
    assert issubclass(healbot.LibraryError, ValueError)
    assert issubclass(healbot.InvalidArgumentError, ValueError)
    assert not issubclass(healbot.TopologyError, ValueError)
    assert not issubclass(healbot.InternalError, ValueError)
    assert issubclass(healbot.HealbotError, Exception)


def test_classes_are_final_and_native() -> None:
    for name in ("Library", "Topology", "Engine", "Decision", "Evidence", "GuardFailure", "RootCause"):
        cls = getattr(healbot, name)
        assert cls.__module__ == "healbot._native"
        assert cls is getattr(_native, name)
