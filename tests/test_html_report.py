"""The run report report.html: its table, map, verdict and provenance, and how a browser shows it."""

import hashlib
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gridcoherence as gc
from gridcoherence import cli
from gridcoherence.cases.machines import machine_data_table
from gridcoherence.report.bundle import write_comparison_bundle, write_reduction_bundle
from gridcoherence.report.compare import UNITS, compare_step_responses
from gridcoherence.report.export import unit_headers
from gridcoherence.report.html import write_run_report
from gridcoherence.report.layout import area_colors, grid_coordinates

CASES_FOLDER = Path(__file__).resolve().parents[1] / "cases"

# Kundur's two areas swing on beyond short horizons; the comparison table says so in a warning.
pytestmark = pytest.mark.filterwarnings("ignore:outputs still outside the 0.02 settling band")


class Page(HTMLParser):
    """The parts of report.html the tests read: tables by section, scripts by id, text by section."""

    def __init__(self, text):
        super().__init__()
        self.section = None
        self.tables = {}       # section id -> list of tables, each a list of rows of cell texts
        self.scripts = {}      # script id -> its text (None: every script without an id)
        self.text = {}         # section id -> all its text
        self.links = []        # every src and href
        self._cell = self._script = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[key] for key in ("src", "href") if key in attrs]
        if tag == "section":
            self.section = attrs.get("id")
        elif tag == "table":
            self.tables.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self._script = (attrs.get("id"), [])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[self.section][-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "script":
            name, parts = self._script
            self.scripts[name] = self.scripts.get(name, "") + "".join(parts)
            self._script = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)
            return
        if self._cell is not None:
            self._cell.append(data)
        if self.section is not None:
            self.text[self.section] = self.text.get(self.section, "") + data

    def figure(self):
        return json.loads(self.scripts["area-map-figure"])


def machine_traces(figure):
    return [trace for trace in figure["data"] if trace["mode"] == "markers"]


@pytest.fixture(scope="module")
def iceland_run(tmp_path_factory):
    case = gc.load_case("iceland")
    result = gc.reduce_network(case.model, 3, order=2)  # reduces all three aggregates (orders 25, 4, 9)
    u0 = -np.eye(case.model.n)[0]
    t = np.linspace(0.0, 60.0, 601)
    table = compare_step_responses(case.model, {"k=3, order=2": result.model}, u0=u0, t=t)
    out = tmp_path_factory.mktemp("iceland") / "run"
    run = {"command": ["gridcoherence", "reduce", "iceland", "-k", "3"], "options": {"clusters": 3},
           "seeds": {"k_means": 0}, "warnings": ["CaseWarning: a made-up warning <b>in plain words</b>"]}
    write_reduction_bundle(out, case, result, table, u0, t, band=1.0, run=run)
    text = (out / "report.html").read_text(encoding="utf-8")
    return case, result, table, u0, t, out, Page(text)


def test_the_comparison_table_has_units_in_its_headers(iceland_run):
    _, _, table, *_, page = iceland_run
    (shown,) = page.tables["comparison"]
    headers = unit_headers(table.columns, UNITS)
    assert shown[0] == [headers[c] for c in table.columns]
    assert "nadir [rad/s]" in shown[0] and "hinf_error [rad/s per p.u.]" in shown[0]
    assert len(shown) == len(table) + 1
    assert [row[0] for row in shown[1:]] == table["model"].tolist()
    nadirs = [float(row[list(table.columns).index("nadir")]) for row in shown[1:]]
    np.testing.assert_allclose(nadirs, table["nadir"], rtol=1e-5)  # written with 6 significant digits


def test_one_marker_per_machine_in_its_area_colour(iceland_run):
    case, result, *_, page = iceland_run
    traces = machine_traces(page.figure())
    colors = area_colors(result.n_clusters)
    assert len(traces) == result.n_clusters
    shown = sorted(i for trace in traces for i in trace["customdata"])
    assert shown == list(range(case.model.n)), "every machine exactly once"
    for c, trace in enumerate(traces):
        assert trace["marker"]["color"] == colors[c]
        assert all(result.labels[i] == c for i in trace["customdata"])
        assert len(trace["x"]) == len(trace["y"]) == len(trace["marker"]["size"]) == len(trace["customdata"])
    # Hovering a machine: name, area numbered from 1, H in s and rating in MVA of the machine data.
    machines = machine_data_table(case)
    for trace in traces:
        for i, text in zip(trace["customdata"], trace["text"]):
            assert text.startswith(f"{case.model.node_names[i]}<br>area {result.labels[i] + 1}<br>")
            assert f"H = {machines.at[i, 'H_s']:.3g} s" in text and f"{machines.at[i, 'rating_mva']:.4g} MVA" in text
    # Heavier machines have larger markers.
    size = {i: s for trace in traces for i, s in zip(trace["customdata"], trace["marker"]["size"])}
    order = np.argsort(case.model.inertia)
    assert size[int(order[-1])] > size[int(order[0])] or np.isclose(*case.model.inertia[order[[0, -1]]])


def test_the_map_draws_the_bus_graph_not_the_machine_graph(iceland_run):
    case, *_, page = iceland_run
    (branches,) = [trace for trace in page.figure()["data"] if trace["mode"] == "lines"]
    grid = case.metadata.details["bus_grid"]
    # Three points per branch (two ends and a break): the branches of the 13-bus network.
    assert len(branches["x"]) == 3 * len(grid.branches) and len(grid.branches) > case.model.n
    assert all(v is None for v in branches["x"][2::3])


def test_the_verdict_gives_the_accuracy_in_units_and_relative(iceland_run):
    _, result, _, u0, t, _, page = iceland_run
    accuracy = result.accuracy(band=1.0, u0=u0, t=t)
    text = page.text["verdict"]
    assert accuracy.verdict(0.05) in text
    band_table, area_table = page.tables["verdict"]
    assert "band error [rad/s per p.u.]" in band_table[0]
    assert float(band_table[1][1]) == pytest.approx(accuracy.band_error_rad_s_per_pu, rel=1e-5)
    assert [row[0] for row in area_table[1:]] == ["area 1", "area 2", "area 3"]
    relative = [float(row[3].rstrip(" %")) / 100 for row in area_table[1:]]
    np.testing.assert_allclose(relative, accuracy.area_relative_error, rtol=5e-3)  # 3 significant digits


def test_the_provenance_block(iceland_run):
    case, *_, out, page = iceland_run
    text = page.text["provenance"]
    source = Path(case.metadata.source)
    assert hashlib.sha256(source.read_bytes()).hexdigest() in text
    assert "gridcoherence reduce iceland -k 3" in text and gc.__version__ in text
    assert '{"k_means": 0}' in text
    # The warning in plain words, its markup shown as text, not obeyed.
    assert "CaseWarning: a made-up warning <b>in plain words</b>" in text
    assert "Warnings of the run (1)" in text
    (facts_table,) = page.tables["provenance"]
    machines = machine_data_table(case)
    assert facts_table[0][:3] == ["machine", "bus", "type"] and "H [s]" in facts_table[0]
    assert [row[0] for row in facts_table[1:]] == machines["name"].tolist()
    assert {row[-1] for row in facts_table[1:]} == set(machines["data_source"])


def test_the_page_needs_no_network(iceland_run):
    *_, out, page = iceland_run
    assert page.links and all(link.startswith("data:image/png;base64,") for link in page.links)
    assert len(page.links) == 5, "the static map (for print) and the 4 figures, all inline"
    assert "Plotly.newPlot" in page.scripts[None]


def test_figures_of_the_run_are_embedded(iceland_run):
    *_, out, page = iceland_run
    captions = page.text["figures"]
    for name in ("cluster_responses.png", "coi_vs_aggregate.png", "bode_aggregate.png",
                 "hankel_singular_values.png"):
        assert (out / name).is_file()
    assert "Area responses" in captions and "Hankel singular values" in captions


def test_markers_of_a_case_with_bus_coordinates_are_at_them(tmp_path):
    import pandapower.networks as pn

    case = gc.load_case("pandapower:case118")
    labels = np.arange(case.model.n) % 3
    table = pd.DataFrame({"model": ["original"], "group": ["all"], "nadir": [-0.1]})
    write_run_report(tmp_path, case=case, table=table, labels=labels, provenance={})
    figure = Page((tmp_path / "report.html").read_text(encoding="utf-8")).figure()
    net = pn.case118()
    geo = {bus: json.loads(text)["coordinates"] for bus, text in net.bus["geo"].items()}
    for trace in machine_traces(figure):
        expected = np.array([geo[case.metadata.machine_bus[i]] for i in trace["customdata"]])
        np.testing.assert_array_equal(np.c_[trace["x"], trace["y"]], expected)
    assert grid_coordinates(case).geographic
    assert "bus coordinates of the network" in Page((tmp_path / "report.html").read_text()).text["map"]


def test_a_graph_case_is_laid_out_from_its_own_edges(tmp_path):
    case = gc.load_case("coherent5")
    grid = grid_coordinates(case)
    assert not grid.geographic and grid.bus_xy.shape == (5, 2) and np.isfinite(grid.bus_xy).all()
    write_run_report(tmp_path, case=case, table=pd.DataFrame({"model": ["original"]}), labels=[0, 0, 1, 1, 1],
                     provenance={})
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "(model units)" in machine_traces(page.figure())[0]["text"][0]
    assert "no machine data is assumed" in page.text["provenance"]


def test_the_layout_is_deterministic_and_spreads_the_buses():
    case = gc.load_case("kundur_two_area")
    first, second = grid_coordinates(case), grid_coordinates(case)
    np.testing.assert_array_equal(first.bus_xy, second.bus_xy)
    distances = np.linalg.norm(first.bus_xy[:, None] - first.bus_xy[None], axis=-1)[np.triu_indices(13, 1)]
    assert distances.min() > 1e-3 * distances.max(), "no two buses on one spot"


@pytest.mark.parametrize("labels", [[0, 1], [0, 1, 1, np.nan, 0], [0, 1, -1, 1, 0], [0, 1, 0.5, 1, 0]],
                         ids=["short", "nan", "negative", "fraction"])
def test_bad_area_labels_are_refused_naming_them(tmp_path, labels):
    case = gc.load_case("coherent5")
    with pytest.raises(ValueError, match="labels"):
        write_run_report(tmp_path, case=case, table=pd.DataFrame({"model": ["original"]}), labels=labels,
                         provenance={})
    assert not list(tmp_path.iterdir()), "nothing is written"


def test_the_command_line_records_its_warnings_and_still_shows_them(tmp_path, monkeypatch):
    text = (CASES_FOLDER / "kundur_two_area.toml").read_text()
    assert "bus = [1, 2, 11, 12]" in text
    case_file = tmp_path / "odd.toml"
    case_file.write_text(text.replace("bus = [1, 2, 11, 12]", "bus = [1, 2, 11, 13]", 1))  # a machine at a load bus
    monkeypatch.chdir(tmp_path)
    with pytest.warns(gc.cases.schema.CaseWarning, match="machines.bus"):
        code = cli.main(["compare", str(case_file), "--models", "2", "--points", "101", "-q", "--out", "cmp"])
    assert code == 0
    recorded = json.loads((tmp_path / "cmp" / "run.json").read_text())["warnings"]
    assert any(w.startswith("CaseWarning: ") and "machines.bus" in w for w in recorded)
    page = Page((tmp_path / "cmp" / "report.html").read_text(encoding="utf-8"))
    assert all(w in page.text["provenance"] for w in recorded)
    assert page.text["verdict"].count("area model") + page.text["verdict"].count("reproduces") >= 1


# ---------------------------------------------------------------------------- a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

#: Appended to a copy of the page: once it has loaded, the boxes of the map and of the
#: table, written into the DOM, so --dump-dom shows where they are.
MEASURE = """<script>
window.addEventListener("load", function () {
  var boxes = {};
  ["area-map", "comparison"].forEach(function (id) {
    var r = document.getElementById(id).getBoundingClientRect();
    boxes[id] = [r.left, r.top + window.scrollY, r.width, r.height];
  });
  boxes.svg = document.querySelectorAll("#area-map svg.main-svg").length;
  boxes.points = document.querySelectorAll("#area-map .scatterlayer .point").length;
  var out = document.createElement("pre"); out.id = "boxes"; out.textContent = JSON.stringify(boxes);
  document.body.appendChild(out);
});
</script>"""


def chromium(*args, timeout=120):
    return subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                           "--window-size=1280,2000", "--virtual-time-budget=10000", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium to open the page with (apt-get install chromium)")
def test_chromium_renders_the_page_without_console_errors(iceland_run, tmp_path):
    from PIL import Image

    case, *_, out, _ = iceland_run
    page = tmp_path / "measured.html"
    page.write_text((out / "report.html").read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
                    encoding="utf-8")
    dump = chromium("--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert dump.returncode == 0, dump.stderr[-2000:]
    assert "Uncaught" not in dump.stderr and "ERROR:CONSOLE" not in dump.stderr, dump.stderr[-2000:]
    boxes = json.loads(dump.stdout.split('<pre id="boxes">')[1].split("</pre>")[0])
    assert boxes["svg"] >= 1, "plotly drew the map"
    assert boxes["points"] == case.model.n, "one marker per machine on the page"

    shot = tmp_path / "page.png"
    result = chromium(f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    for name in ("area-map", "comparison"):
        left, top, width, height = (int(round(v)) for v in boxes[name])
        assert top + 20 < image.shape[0], f"{name} lies below the screenshot"
        region = image[top:min(top + height, image.shape[0]), left:left + width]
        assert region.std() > 2, f"the {name} region is blank"
    # The map shows the areas' colours.
    left, top, width, height = (int(round(v)) for v in boxes["area-map"])
    region = image[top:top + height, left:left + width].reshape(-1, 3)
    for color in area_colors(2):
        rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(region - rgb).max(axis=1) < 30).sum() > 20, f"no {color} marker in the map"


def test_without_plotly_the_page_shows_the_static_map(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "plotly.offline", None)  # importing it now fails
    case = gc.load_case("coherent5")
    write_run_report(tmp_path, case=case, table=pd.DataFrame({"model": ["original"]}), labels=[0, 0, 1, 1, 1],
                     provenance={})
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "area-map-figure" not in page.scripts and "Plotly" not in page.scripts[None]
    assert 'pip install "gridcoherence[report]"' in page.text["map"]
    assert len(page.links) == 1 and page.links[0].startswith("data:image/png;base64,")


def test_a_network_given_in_memory_is_identified_by_its_json(tmp_path):
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case9()
    expected = hashlib.sha256(pp.to_json(pn.case9()).encode("utf-8")).hexdigest()
    case = gc.load_case(net)
    assert case.metadata.details["network_sha256"] == expected
    write_comparison_bundle(tmp_path / "cmp", case, pd.DataFrame({"model": ["original"]}))
    record = json.loads((tmp_path / "cmp" / "run.json").read_text())["case"]
    assert record["sha256_of"] == "network JSON" and record["sha256"] == expected
    page = Page((tmp_path / "cmp" / "report.html").read_text(encoding="utf-8"))
    assert f"SHA-256 of the network's pandapower JSON{expected}" in page.text["provenance"]
