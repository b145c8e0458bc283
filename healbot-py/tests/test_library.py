"""Library loading, introspection, errors with diagnostics, pickling."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

import healbot

from .conftest import CPU_LIBRARY, SHOP

BROKEN = """\
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: broken}
spec:
  signatures:
    - id: a
      title: A
      category: errors
      severity: warning
      match: {metric: {name: x, agg: avg, window: 5q, op: ">", threshold: 1}}
    - id: b
      title: B
      category: errors
      severity: warning
      match: {metric: {name: x, agg: avg, window: 5m, op: ">", threshold: 1}}
      mtach: 3
"""


def test_load_files_and_directory(shop_library: healbot.Library) -> None:
    assert "db.unavailable" in shop_library.signatures
    assert "restart_service" in shop_library.actions
    assert len(shop_library.revision) == 16
    whole = healbot.Library.load(SHOP)
    assert set(whole.signatures) == set(shop_library.signatures)
    assert set(whole.document_names) == {"shop-signatures", "shop-actions", "shop-tuning"}
    assert shop_library.document_names == ["shop-signatures", "shop-actions", "shop-tuning"]


def test_load_walks_symbolic_link_loops_once(tmp_path: Path) -> None:
    """Links back up the tree (two to the folder itself, one to its parent)
    are followed once: each document loads once and the walk ends."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "actions.yaml").write_text((SHOP / "actions.yaml").read_text())
    for link, to in [("self", "."), ("again", "."), ("up", "..")]:
        (lib / link).symlink_to(to)
    loaded = healbot.Library.load(tmp_path)
    assert loaded.document_names == ["shop-actions"]


def test_load_accepts_pathlike_and_str(shop_library: healbot.Library) -> None:
    lib = healbot.Library.load(str(SHOP / "signatures.yaml"), SHOP / "actions.yaml", str(SHOP / "overrides.yaml"))
    assert lib.revision == shop_library.revision


def test_overrides_applied(shop_library: healbot.Library) -> None:
    action = shop_library.action("restart_service")
    assert action is not None and action["min_confidence"] == 0.85
    sig = shop_library.signature("db.unavailable")
    assert sig is not None and sig["prior"] == 0.6
    assert shop_library.signature("nope") is None
    assert shop_library.action("nope") is None


def test_from_text_yaml_and_json() -> None:
    lib = healbot.Library.from_text(CPU_LIBRARY)
    assert lib.signatures == ["cpu.hot", "api.oom"]
    doc = {
        "apiVersion": "healbot.dev/v1",
        "kind": "ActionLibrary",
        "metadata": {"name": "a"},
        "spec": {"actions": [{"id": "r", "title": "R", "operation": "restart", "risk": "low", "min_confidence": 0.5}]},
    }
    text = json.dumps(doc)
    assert healbot.Library.from_text(text, format="json").actions == ["r"]
    assert healbot.Library.from_text(text, name="actions.json").actions == ["r"]
    # JSON is YAML too, so the default format reads it.
    assert healbot.Library.from_text(text).actions == ["r"]


def test_from_sources(shop_library: healbot.Library) -> None:
    sources = [(str(SHOP / n), (SHOP / n).read_text()) for n in ("signatures.yaml", "actions.yaml", "overrides.yaml")]
    assert healbot.Library.from_sources(sources).revision == shop_library.revision


def test_library_error_carries_every_diagnostic() -> None:
    with pytest.raises(healbot.LibraryError) as info:
        healbot.Library.from_text(BROKEN, name="broken.yaml")
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, healbot.HealbotError)
    assert len(err.diagnostics) >= 2
    by_code = {d.code: d for d in err.diagnostics}
    unknown = by_code["unknown-field"]
    assert (unknown.file, unknown.line, unknown.column) == ("broken.yaml", 16, 7)
    assert unknown.path == "spec.signatures[1].mtach"
    assert unknown.severity == "error"
    assert unknown.expected is not None and "`match`" in unknown.expected
    assert unknown.suggestion == "did you mean `match`?"
    duration = by_code["invalid-duration"]
    assert duration.line == 10 and duration.path.endswith("window")
    assert "broken.yaml:16:7" in str(err)
    assert err.message and err.message in str(err)
    d = unknown.to_dict()
    assert d["kind"] == "unknown-field" and d["line"] == 16
    assert json.loads(unknown.to_json()) == d
    assert "mtach" in repr(unknown) and str(unknown).startswith("broken.yaml:16:7")


def test_syntax_error_position() -> None:
    with pytest.raises(healbot.LibraryError) as info:
        healbot.Library.from_text("a: [1, 2\n", name="bad.yaml")
    assert info.value.diagnostics[0].code == "syntax"
    assert info.value.diagnostics[0].file == "bad.yaml"


def test_empty_and_unknown_format() -> None:
    with pytest.raises(healbot.LibraryError):
        healbot.Library.from_text("")
    with pytest.raises(healbot.InvalidArgumentError, match="toml"):
        healbot.Library.from_text(CPU_LIBRARY, format="toml")  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        healbot.Library.load(tmp_path / "nope.yaml")


def test_pickle_round_trip(shop_library: healbot.Library) -> None:
    for lib in (shop_library, healbot.Library.from_text(CPU_LIBRARY, name="cpu.yaml")):
        back = pickle.loads(pickle.dumps(lib))
        assert isinstance(back, healbot.Library)
        assert back.revision == lib.revision
        assert back.signatures == lib.signatures
    assert "revision=" in repr(shop_library)
