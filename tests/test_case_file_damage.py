"""A damaged case file, of any of the three formats, gives a CaseError or a valid case.

Each example starts from a real file (the bundled Kundur two-area TOML case, the
three-machine MATPOWER test case, pandapower's case9 written as pandapower JSON) and
applies one random mutation: a number token replaced by another value, a line dropped,
the file truncated, one byte changed, or random bytes. Whatever comes out, loading it
raises :class:`~gridcoherence.cases.CaseError` (possibly after :class:`CaseWarning`\\ s)
or returns a case whose model is finite; never another exception.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridcoherence as gc
from gridcoherence.cases import CaseError
from gridcoherence.cases.bundled import bundled_path

DATA = Path(__file__).parent / "data"
NUMBER = re.compile(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?")

#: Derandomized: every run tests the same damaged files (each load runs a power flow).
SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=25,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def damaged(draw, data):
    """The bytes ``data`` after one random mutation."""
    kind = draw(st.sampled_from(["number", "number", "drop line", "truncate", "byte", "bytes"]))
    if kind == "number":
        tokens = list(NUMBER.finditer(data))
        token = tokens[draw(st.integers(0, len(tokens) - 1))]
        value = draw(st.sampled_from([b"0", b"-1", b"1e308", b"-1e-300", b"nan", b"inf", b"2.5", b"\"x\"",
                                      b"", b"1e999", b"99999999"]))
        return data[:token.start()] + value + data[token.end():]
    if kind == "drop line":
        lines = data.splitlines(keepends=True)
        del lines[draw(st.integers(0, len(lines) - 1))]
        return b"".join(lines)
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data) - 1))]
    if kind == "byte":
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    return draw(st.binary(max_size=200))


def load_or_case_error(path):
    """Load ``path``; a CaseError is a fine answer, a case must be finite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case = gc.load_case(path)
        except CaseError as error:
            assert str(error)
            return
    model = case.model
    assert np.all(np.isfinite(model.laplacian.data)) and np.all(np.isfinite(model.inertia))


@pytest.fixture(scope="module")
def pandapower_json(tmp_path_factory):
    pandapower = pytest.importorskip("pandapower")
    import pandapower.networks as networks

    path = tmp_path_factory.mktemp("pp") / "case9.json"
    pandapower.to_json(networks.case9(), str(path))
    return path.read_bytes()


@SETTINGS
@given(data=st.data())
def test_damaged_toml_case(tmp_path, data):
    source = Path(bundled_path("kundur_two_area"))
    path = tmp_path / "damaged.toml"
    path.write_bytes(data.draw(damaged(source.read_bytes())))
    load_or_case_error(path)


@SETTINGS
@given(data=st.data())
def test_damaged_matpower_case(tmp_path, data):
    path = tmp_path / "damaged.m"
    path.write_bytes(data.draw(damaged((DATA / "three_machine.m").read_bytes())))
    load_or_case_error(path)


@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_damaged_pandapower_json_case(tmp_path, pandapower_json, data):
    path = tmp_path / "damaged.json"
    path.write_bytes(data.draw(damaged(pandapower_json)))
    load_or_case_error(path)
