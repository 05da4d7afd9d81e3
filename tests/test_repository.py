"""The repository stands alone: nothing in it reads files from outside the clone.

A user's clone has nothing beside it, so no package module, test, script or document may
refer to a folder next to the repository or to an absolute path on a developer's machine.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ["gridcoherence", "tests", "scripts", "docs", "cases", ".ci"]
# The two checkers name the patterns themselves.
CHECKERS = {"test_repository.py", "run"}
# The developers' reference folder beside the repository; its name is assembled here so
# that no path to it is written anywhere in the repository, this checker included.
SIBLING = "sha" + "red"
OUTSIDE = re.compile(rf"\.\./{SIBLING}|\b{SIBLING}/(data|spec|reference)\b|/work/|/root/|/home/\w")


def repository_files():
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *FOLDERS,
                                 "README.md", "setup.cfg", "pyproject.toml"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (an installed copy has no repository to check)")
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_nothing_refers_outside_the_repository():
    offenders = []
    for path in repository_files():
        if path.name in CHECKERS:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary data
        offenders += [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                      for number, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert not offenders, "references outside the repository:\n" + "\n".join(offenders)


def test_the_pattern_catches_what_it_must():
    for line in [f"open('{'/'.join(['..', SIBLING, 'data', 'pst', 'x.m'])}')",
                 f"default='{'/'.join(['', 'work', SIBLING])}'", f"see {SIBLING}/spec/x.md"]:
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("tests/data/pst/data16m.m")


INTERNAL = re.compile(r"\[(FIX|UNSPEC|TEXT|DERIVED)\]|\bspec (Sec|section|erratum|check)|spec ?§|\bissues? \d+\b",
                      re.IGNORECASE)


def test_public_text_cites_only_what_users_can_read():
    # Docstrings, help, docs and messages cite the dissertation, never development notes.
    offenders = []
    for path in repository_files():
        if path.suffix not in (".py", ".md", ".toml", ".cfg") or path.name in CHECKERS:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                      for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                      if INTERNAL.search(line)]
    assert not offenders, "internal references in public text:\n" + "\n".join(offenders)
