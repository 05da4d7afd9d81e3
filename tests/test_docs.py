"""Every Python example in README.md and docs/ runs as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_examples_run(document, tmp_path, monkeypatch):
    blocks = BLOCK.findall(document.read_text())
    assert blocks, f"{document.name} has no Python examples"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_example__"}
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"{document.name} example {number}", "exec"), namespace)
