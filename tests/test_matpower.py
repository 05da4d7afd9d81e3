"""MATPOWER case files load through pandapower's converter."""

import numpy as np
import pytest

import gridcoherence as gc

CASE = __import__("pathlib").Path(__file__).parent / "data" / "three_machine.m"


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_matpower_file_loads_with_default_machines():
    case = gc.load_case(CASE)
    model = case.model
    assert model.n == 3
    L = model.laplacian.toarray()
    np.testing.assert_allclose(L, L.T, atol=1e-12)
    np.testing.assert_allclose(L.sum(axis=1), 0.0, atol=1e-9)
    assert case.spectrum_summary(2)["lambda_2"] > 0
    # Typical machines: the three units are 50-400 MVA, whose types all have a governor.
    assert np.all(model.nodes.m > 0) and model.nodes.n_turbines == 3


def test_missing_matpower_file_is_named(tmp_path):
    with pytest.raises(gc.CaseError, match=r"no such file"):
        gc.load_case(tmp_path / "absent.m")
