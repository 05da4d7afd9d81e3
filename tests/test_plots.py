"""Workflow figures: files written without a display, right pixel size, clear errors."""

import subprocess
import sys

import matplotlib.image as mpimg
import networkx as nx
import numpy as np
import pytest

from gridcoherence.report import plots
from gridcoherence.coherence.aggregate import coherent_aggregate
from gridcoherence.reduction.machines import reduce_aggregate
from gridcoherence.cases.loader import load_case
from gridcoherence.coherence.measures import aggregate_response
from gridcoherence.reduction.structure import structure_preserving_reduction

DPI = 50


@pytest.fixture(scope="module")
def kundur():
    model = load_case("kundur_two_area").model
    reduced = structure_preserving_reduction(model, 2)
    t = np.linspace(0.0, 10.0, 201)
    return model, reduced, model.response(0, t=t), reduced.lifted_response(0, t=t), t


@pytest.fixture(scope="module")
def coherent5_reductions():
    aggregate = coherent_aggregate(load_case("coherent5").model.nodes)
    return aggregate, {f"cl, order {k}": reduce_aggregate(aggregate, k) for k in (2, 3)}


def assert_png(path, size_inches, dpi=DPI):
    """The file exists, is not empty, has figsize * dpi pixels and is not one flat colour."""
    assert path.stat().st_size > 0
    image = mpimg.imread(path)
    width, height = size_inches
    assert image.shape[:2] == (round(height * dpi), round(width * dpi))
    assert image[..., :3].std() > 0.01  # something was drawn


def test_cluster_responses(kundur, tmp_path):
    model, reduced, response, lifted, _ = kundur
    path = tmp_path / "clusters.png"
    fig = plots.plot_cluster_responses(response, lifted, reduced.labels, node_names=model.node_names,
                                       path=path, figsize=(8, 3), dpi=DPI)
    assert_png(path, (8, 3))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    # Panel c holds its nodes' curves and the reduced curve, which is the cluster's output.
    for c, ax in enumerate(panels):
        lines = ax.get_lines()
        assert len(lines) == 1 + int(np.sum(reduced.labels == c))
        np.testing.assert_array_equal(lines[-1].get_ydata(), lifted.info["reduced_y"][:, c])
        assert "(s)" in ax.get_xlabel() and "rad/s" in ax.get_ylabel()


def test_many_nodes_are_drawn_as_their_range():
    """A panel of more than MAX_NODE_LINES nodes shades their min..max instead of one line each."""
    rng = np.random.default_rng(2)
    t = np.linspace(0.0, 2.0, 21)
    n = plots.MAX_NODE_LINES + 5
    y = rng.standard_normal((t.size, n))
    labels = np.r_[np.zeros(n - 3, int), np.ones(3, int)]
    fig = plots.plot_cluster_responses((t, y), (t, y[:, [0, n - 1]]), labels)
    crowded, small = fig.axes[:2]
    assert len(crowded.get_lines()) == 1 and len(small.get_lines()) == 4
    band = crowded.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].max(), y[:, : n - 3].max()) and np.isclose(band[:, 1].min(), y[:, : n - 3].min())


def test_cluster_responses_accepts_cluster_outputs(kundur):
    _, reduced, response, lifted, t = kundur
    fig = plots.plot_cluster_responses(response, (t, lifted.info["reduced_y"]), reduced.labels)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2


def test_coi_vs_aggregate(kundur, tmp_path):
    model, _, response, _, t = kundur
    path = tmp_path / "coi.pdf"
    plots.plot_coi_vs_aggregate(response, {"aggregate": aggregate_response(model, 0, t=t)}, path=path)
    assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 1000
    png = tmp_path / "coi.png"
    fig = plots.plot_coi_vs_aggregate(response, aggregate_response(model, 0, t=t), path=png, figsize=(6, 4),
                                      dpi=DPI)
    assert_png(png, (6, 4))
    coi = [line for line in fig.axes[0].get_lines() if line.get_label() == "centre of inertia"][0]
    np.testing.assert_array_equal(coi.get_ydata(), response.y_coi)


def test_bode_and_hankel(coherent5_reductions, tmp_path):
    aggregate, reductions = coherent5_reductions
    w = np.logspace(-2, 1, 50)
    fig = plots.plot_bode_aggregate(aggregate, reductions, frequencies=w, path=tmp_path / "bode.png",
                                    figsize=(6, 4), dpi=DPI)
    assert_png(tmp_path / "bode.png", (6, 4))
    full = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(full.get_ydata(), np.abs(aggregate.transfer(1j * w)[:, 0]), rtol=1e-12)
    values = {name: r.hankel_singular_values for name, r in reductions.items()}
    values["with a zero"] = np.r_[values["cl, order 2"], 0.0]
    fig = plots.plot_hankel_singular_values(values, path=tmp_path / "hsv.png", figsize=(5, 4), dpi=DPI)
    assert_png(tmp_path / "hsv.png", (5, 4))
    assert fig.axes[0].get_yscale() == "log"
    assert "1 zero not shown" in fig.axes[0].get_lines()[-1].get_label()


def test_cluster_map_layout_and_coordinates(tmp_path):
    case = load_case("sbm3")
    labels = case.metadata.details["labels"]
    fig = plots.plot_cluster_map(case.model.laplacian, labels, path=tmp_path / "map.png", figsize=(6, 5),
                                 dpi=DPI)
    assert_png(tmp_path / "map.png", (6, 5))
    assert 0 < len(fig.axes[0].collections[0].get_segments()) <= case.model.n_edges
    graph = nx.path_graph(4)
    coordinates = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0], [3.0, 1.0]])
    fig = plots.plot_cluster_map(graph, [0, 0, 1, 1], coordinates=coordinates, node_names=list("abcd"),
                                 path=tmp_path / "coords.png", figsize=(4, 4), dpi=DPI)
    assert_png(tmp_path / "coords.png", (4, 4))
    drawn = np.vstack([points.get_offsets() for points in fig.axes[0].collections[1:]])
    np.testing.assert_array_equal(drawn, coordinates)


def test_cluster_map_draws_each_nodes_strongest_edges(tmp_path):
    # A complete graph of 8 nodes with distinct weights, at known coordinates.
    n = 8
    rng = np.random.default_rng(3)
    graph = nx.complete_graph(n)
    for (u, v), w in zip(graph.edges, rng.permutation(len(graph.edges)) + 1.0):
        graph[u][v]["weight"] = w
    coordinates = rng.normal(size=(n, 2))
    fig = plots.plot_cluster_map(graph, [0] * 4 + [1] * 4, coordinates=coordinates)
    at = {tuple(xy): i for i, xy in enumerate(coordinates)}
    drawn = {frozenset(at[tuple(p)] for p in segment) for segment in fig.axes[0].collections[0].get_segments()}
    expected = set()
    for i in range(n):
        strongest = sorted((j for j in range(n) if j != i), key=lambda j: -graph[i][j]["weight"])
        expected |= {frozenset((i, j)) for j in strongest[:plots.MAP_EDGES_PER_NODE]}
    assert drawn == expected and len(drawn) < len(graph.edges)
    assert fig.axes[0].get_legend_handles_labels()[1] == ["area 1 (4)", "area 2 (4)"]


def test_cluster_map_without_coordinates_is_deterministic():
    case = load_case("iceland")
    labels = structure_preserving_reduction(case.model, 3).labels
    first, second = (np.vstack([p.get_offsets() for p in plots.plot_cluster_map(case.model.laplacian, labels)
                                .axes[0].collections[1:]]) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert np.all(np.isfinite(first)) and np.ptp(first, axis=0).min() > 0


def test_plots_need_no_display(tmp_path):
    """A fresh interpreter without DISPLAY and without MPLBACKEND writes a figure."""
    script = (
        "import numpy as np\n"
        "from gridcoherence.report import plots\n"
        f"plots.plot_hankel_singular_values({{'a': [1.0, 0.1, 0.01]}}, path=r'{tmp_path / 'h.png'}')\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend())\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "h.png").stat().st_size > 0
    assert done.stdout.strip().lower() == "agg"


def test_bad_input_gives_clear_errors(kundur, coherent5_reductions):
    model, reduced, response, lifted, t = kundur
    aggregate, reductions = coherent5_reductions
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        plots.plot_cluster_responses(response, lifted, [0, 1])
    with pytest.raises(ValueError, match="share their time points"):
        plots.plot_cluster_responses(response, (t[:-1], lifted.y[:-1]), reduced.labels)
    with pytest.raises(ValueError, match="expected n = 4"):
        plots.plot_cluster_responses(response, (t, lifted.y[:, :3]), reduced.labels)
    with pytest.raises(ValueError, match="non-finite"):
        plots.plot_cluster_responses((t, np.full((t.size, 4), np.nan)), lifted, reduced.labels)
    with pytest.raises(TypeError, match="TimeResponse"):
        plots.plot_coi_vs_aggregate(response.y, lifted)
    with pytest.raises(ValueError, match="one output"):
        plots.plot_coi_vs_aggregate(response, lifted)
    with pytest.raises(ValueError, match="positive angular"):
        plots.plot_bode_aggregate(aggregate, reductions, frequencies=[-1.0, 1.0])
    with pytest.raises(ValueError, match="single aggregate node"):
        plots.plot_bode_aggregate(model.nodes, reductions)
    with pytest.raises(ValueError, match=">= 0"):
        plots.plot_hankel_singular_values({"bad": [1.0, -0.5]})
    with pytest.raises(ValueError, match="non-finite"):
        plots.plot_hankel_singular_values({"bad": [1.0, np.nan]})
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        plots.plot_cluster_map(model.laplacian, reduced.labels, coordinates=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="lack nodes"):
        plots.plot_cluster_map(model.laplacian, reduced.labels, coordinates={0: (0, 0)})
