"""Atomic output files and run folders: complete or absent, never a mix, with ordinary permissions."""

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from gridcoherence import _io
from gridcoherence._io import RunFolderError, atomic_directory, atomic_write, check_run_folder, write_json, write_manifest


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


def write_run(path, files, **kwargs):
    """A run folder holding ``files`` (name -> text), written through atomic_directory."""
    with atomic_directory(path, **kwargs) as folder:
        for name, text in files.items():
            (folder / name).write_text(text)
        write_manifest(folder, {"command": sorted(files)})


def contents(path):
    return {p.name: p.read_text() for p in path.iterdir() if p.name != "run.json"}


@pytest.fixture(params=["exchange", "rename-aside"])
def swap(request, monkeypatch):
    """Both ways of swapping folders: one atomic exchange (Linux) and rename aside, rename in."""
    if request.param == "rename-aside":
        monkeypatch.setattr(_io, "_exchange", lambda first, second: False)
    return request.param


def test_atomic_directory_replaces_a_run_as_a_whole(tmp_path, swap):
    run = tmp_path / "run"
    write_run(run, {"a.txt": "first", "b.png": "first"})
    write_run(run, {"a.txt": "second"})
    assert contents(run) == {"a.txt": "second"}, "no file of the earlier run may stay"
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["command"] == ["a.txt"] and manifest["files"] == [{"name": "a.txt", "bytes": 6}]
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no hidden folder may stay"


def test_atomic_directory_failure_leaves_the_earlier_run(tmp_path, swap):
    run = tmp_path / "run"
    write_run(run, {"a.txt": "first"})
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(run) as folder:
            (folder / "a.txt").write_text("half")
            raise KeyboardInterrupt
    assert contents(run) == {"a.txt": "first"}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_failed_swap_restores_the_earlier_run(tmp_path, monkeypatch):
    run = tmp_path / "run"
    write_run(run, {"a.txt": "first"})
    monkeypatch.setattr(_io, "_exchange", lambda first, second: False)
    rename = os.rename

    def rename_in_fails(source, target):
        if os.path.basename(target) == "run":
            if os.path.basename(source).startswith(".run.tmp-") and os.listdir(source) == ["x.txt"]:
                raise OSError("disk gone")
        rename(source, target)

    monkeypatch.setattr(_io.os, "rename", rename_in_fails)
    with pytest.raises(OSError, match="disk gone"):
        with atomic_directory(run) as folder:
            (folder / "x.txt").write_text("new")
    monkeypatch.undo()
    assert contents(run) == {"a.txt": "first"}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_keep_previous_keeps_the_earlier_run_beside(tmp_path, swap):
    run = tmp_path / "run"
    for text in ["first", "second", "third"]:
        write_run(run, {"a.txt": text}, keep_previous=True)
    assert contents(run) == {"a.txt": "third"}
    assert contents(tmp_path / "run.previous") == {"a.txt": "second"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.previous"]


def make_file(tmp_path):
    (tmp_path / "run").write_text("data")
    return tmp_path / "run"


def make_foreign_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "thesis.tex").write_text("mine")
    return tmp_path / "run"


def make_file_parent(tmp_path):
    (tmp_path / "blocker").write_text("")
    return tmp_path / "blocker" / "deep" / "run"


@pytest.mark.parametrize("make, message", [
    (make_file, "is a file, not a folder"),
    (make_foreign_folder, "is a folder gridcoherence did not write"),
    (make_file_parent, "blocker is not a folder"),
], ids=["file", "foreign-folder", "parent-is-a-file"])
def test_a_path_that_is_no_run_folder_is_refused_untouched(tmp_path, make, message):
    target = make(tmp_path)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(RunFolderError, match=message):
        check_run_folder(target)
    with pytest.raises(RunFolderError, match=message):
        with atomic_directory(target):
            pytest.fail("nothing may be written")
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_keep_previous_refuses_a_foreign_previous_folder(tmp_path):
    (tmp_path / "run.previous").mkdir()
    (tmp_path / "run.previous" / "notes.txt").write_text("mine")
    check_run_folder(tmp_path / "run")
    with pytest.raises(RunFolderError, match="run.previous is a folder gridcoherence did not write"):
        check_run_folder(tmp_path / "run", keep_previous=True)


def test_empty_folder_and_missing_parents_become_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    write_run(tmp_path / "empty", {"a.txt": "x"})
    write_run(tmp_path / "new" / "deep" / "run", {"a.txt": "y"})
    assert contents(tmp_path / "empty") == {"a.txt": "x"}
    assert contents(tmp_path / "new" / "deep" / "run") == {"a.txt": "y"}


def test_leftovers_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    past = time.time() - 60
    leftovers = [tmp_path / f".run.tmp-{dead_pid}-0123abcd", tmp_path / f".other.tmp-{dead_pid}-deadbeef"]
    kept = [tmp_path / f".run.tmp-{os.getppid()}-0123abcd",  # its process is alive
            tmp_path / f".run.tmp-{dead_pid}-0123abc",       # not the package's pattern
            tmp_path / f".run.old-{dead_pid}-0123abcd", tmp_path / "run.tmp-1-0123abcd"]
    young = tmp_path / f".young.tmp-{dead_pid}-00000000"  # not older than the run
    for folder in leftovers + kept + [young]:
        folder.mkdir()
        (folder / "table.csv").write_text("partial")
        stamp = time.time() + 60 if folder == young else past
        os.utime(folder, (stamp, stamp))
    write_run(tmp_path / "run", {"a.txt": "x"})
    assert not any(folder.exists() for folder in leftovers)
    assert all(folder.exists() for folder in kept + [young])


def test_a_symbolic_link_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(RunFolderError, match="link is a symbolic link"):
        check_run_folder(tmp_path / "link")
