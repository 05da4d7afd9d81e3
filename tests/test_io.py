"""Atomic output files: complete or absent, with ordinary permissions."""

import os
import stat

import pytest

from gridcoherence._io import atomic_write, write_json


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "table.csv"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("half a ")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_and_uses_umask_permissions(tmp_path):
    target = tmp_path / "numbers.json"
    target.write_text("old")
    write_json(target, {"x": float("nan"), "y": [1, 2]})
    assert target.read_text() == '{\n  "x": null,\n  "y": [\n    1,\n    2\n  ]\n}\n'
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
