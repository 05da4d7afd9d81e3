"""The Examples sections of every module of the installed package run as written."""

import doctest
import importlib
import pkgutil

import pytest

import gridcoherence

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(gridcoherence.__path__, "gridcoherence.")
    if not name.endswith(("__main__", "cli"))
)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
