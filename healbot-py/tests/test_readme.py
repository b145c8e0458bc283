"""The READMEs' Python examples run as printed (from the repository root) and
print what the READMEs say they print, so the examples cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

READMES = [ROOT / "README.md", ROOT / "healbot-py" / "README.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def examples(readme: Path) -> list[tuple[str, str | None]]:
    """Each ```python block of `readme`, with the ```text block that follows it
    (its printed output) when the next block is one."""
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(readme.read_text())]
    out: list[tuple[str, str | None]] = []
    for i, (lang, code) in enumerate(blocks):
        if lang == "python":
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            out.append((code, after[1] if after is not None and after[0] == "text" else None))
    return out


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_the_main_readme_has_a_python_section_with_a_ten_line_example() -> None:
    text = (ROOT / "README.md").read_text()
    assert "\n## Python\n" in text
    found = examples(ROOT / "README.md")
    assert len(found) == 1
    code, printed = found[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 12
    for call in ("Library.load(", "Topology.load(", "Engine(", "ingest_alertmanager(", "ingest_metric(", "evaluate(at="):
        assert call in code
    assert printed is not None


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_readme_python_examples_run_and_print_what_they_say(readme: Path) -> None:
    found = examples(readme)
    assert found, f"{readme} has no python example"
    for code, printed in found:
        out = run(code)
        assert out.strip(), "the example printed nothing"
        if printed is not None:
            assert out == printed


def test_examples_finds_blocks_and_their_output(tmp_path: Path) -> None:
    doc = tmp_path / "README.md"
    doc.write_text("x\n```python\nprint(1)\n```\n\nprints\n\n```text\n1\n```\n```python\npass\n```\n```sh\nls\n```\n")
    assert examples(doc) == [("print(1)\n", "1\n"), ("pass\n", None)]
