"""Exported tables: CSV, Markdown and LaTeX files, units in the headers, bad input."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gridcoherence.report.compare import COLUMNS, UNITS, compare_step_responses
from gridcoherence.report.export import export_table, table_to_markdown, unit_headers


def test_export_formats(damped, tmp_path):
    model, reduced = damped
    table = compare_step_responses(model, {"k=2": reduced}, u0=0, t=np.linspace(0.0, 40.0, 801))
    csv = pd.read_csv(export_table(table, tmp_path / "table.csv"))
    assert "nadir_rad_s" in csv.columns and "nadir" not in csv.columns
    plain = {header: name for name, header in unit_headers(COLUMNS, UNITS, "csv").items()}
    pd.testing.assert_frame_equal(csv.rename(columns=plain), table, check_exact=False, rtol=1e-15)
    markdown = export_table(table, tmp_path / "table.md").read_text().splitlines()
    assert len(markdown) == 2 + len(table)
    header = [cell.strip() for cell in markdown[0].strip("|").split("|")]
    assert header[:5] == ["model", "group", "n_nodes", "l2_error [rad/s * s^(1/2)]", "linf_error [rad/s]"]
    assert "nadir [rad/s]" in header and "max_rocof [rad/s^2]" in header and header[-1] == "error_method"
    assert markdown[1].startswith("|:---|:---|---:|")
    assert f"{table.loc[2, 'l2_error']:.6g}" in markdown[4]
    latex = export_table(table, tmp_path / "table.tex").read_text()
    assert "\\toprule" in latex and "l2\\_error [rad/s" in latex and "nadir [rad/s]" in latex
    assert latex.count("\\\\") == 1 + len(table)
    with pytest.raises(ValueError, match="unknown table format"):
        export_table(table, tmp_path / "table.xlsx")
    with pytest.raises(TypeError, match="DataFrame"):
        export_table(table.to_dict(), tmp_path / "table.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv", "table.md", "table.tex"]


def test_csv_headers_of_the_comparison_columns():
    assert unit_headers(COLUMNS, UNITS, "csv") == {
        "model": "model", "group": "group", "n_nodes": "n_nodes",
        "l2_error": "l2_error_rad_s_sqrt_s", "linf_error": "linf_error_rad_s",
        "hinf_error": "hinf_error_rad_s_per_pu", "nadir": "nadir_rad_s", "nadir_time": "nadir_time_s",
        "max_rocof": "max_rocof_rad_s2", "settling_time": "settling_time_s",
        "steady_state": "steady_state_rad_s", "features_resolved": "features_resolved",
        "error_method": "error_method",
    }
    assert all(header.isidentifier() for header in unit_headers(COLUMNS, UNITS, "csv").values())


def test_units_come_from_the_argument_or_the_table(tmp_path):
    table = pd.DataFrame({"model": ["a", "b"], "nadir": [-0.25, -0.5]})
    assert export_table(table, tmp_path / "plain.csv").read_text().splitlines()[0] == "model,nadir"
    assert table_to_markdown(table).splitlines()[0] == "| model | nadir |"
    with_units = export_table(table, tmp_path / "units.csv", units={"nadir": "rad/s"})
    assert with_units.read_text().splitlines()[0] == "model,nadir_rad_s"
    table.attrs["units"] = {"nadir": "Hz"}
    assert table_to_markdown(table).splitlines()[0] == "| model | nadir [Hz] |"
    assert "nadir [Hz]" in export_table(table, tmp_path / "units.tex").read_text()
    # An explicit mapping, even an empty one, replaces the table's own.
    assert table_to_markdown(table, {}).splitlines()[0] == "| model | nadir |"
    with pytest.raises(TypeError, match="units must be a dict"):
        export_table(table, tmp_path / "bad.csv", units=["rad/s"])


def test_unit_headers_reject_a_bad_style_and_equal_headers():
    with pytest.raises(ValueError, match="style"):
        unit_headers(["nadir"], {"nadir": "rad/s"}, "html")
    with pytest.raises(ValueError, match=r"\['time_s'\]"):
        unit_headers(["time", "time_s"], {"time": "s"}, "csv")


def test_export_module_imports_no_heavy_module():
    code = ("import sys\nimport gridcoherence.report.export\n"
            "print([m for m in ('control', 'scipy', 'matplotlib', 'networkx') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
