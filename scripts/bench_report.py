"""How long the run report of a large grid takes to write and to open, printed as JSON.

Usage::

    python scripts/bench_report.py [--case pandapower:case9241pegase] [--clusters 8] [--out bench_report.json]

The case (default pandapower:case9241pegase: 9,241 buses, its generators as machines, bus
coordinates from the network) is loaded and its machines clustered (slow-coherency
spectral clustering, seed 0); neither is timed. Measured:

* ``render_seconds``: :func:`gridcoherence.report.html.write_run_report` -- the static
  map ``area_map.png`` and ``report.html``, with the table of the areas' sizes (the
  step-response table and the accuracy are computed by the run, not by the report);
* ``open_seconds``: from navigation start to the page's load event in headless
  chromium, the map drawn (plotly draws in an inline script that runs before load), read
  from the page itself; ``browser_seconds``: the whole chromium process, start-up included;
  ``browser_cpu_seconds``: the CPU time of all its processes, which other load on the
  machine does not inflate (the wall times above grow with it), and
  ``blank_page_cpu_seconds`` the same for an empty page: chromium's own start-up.

Targets: under 10 s to render, under 3 s to open. Needs chromium on PATH for the second
part (``{"open_seconds": null}`` otherwise).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

#: Appended to a copy of the page: the time of the load event, written into the DOM.
MEASURE = """<script>
window.addEventListener("load", function () {
  var out = document.createElement("pre"); out.id = "timing";
  out.textContent = JSON.stringify({load_ms: performance.now(),
                                    points: document.querySelectorAll("#area-map .point").length});
  document.body.appendChild(out);
});
</script>"""


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def open_in_chromium(browser, page):
    """Seconds to the load event, markers drawn, wall and CPU seconds of the chromium process."""
    measured = page.with_name("measured_" + page.name)
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    start, cpu = time.perf_counter(), _children_cpu_seconds()
    done = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--window-size=1280,2000",
                           "--dump-dom", measured.as_uri()], capture_output=True, text=True, timeout=300)
    seconds, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu
    timing = json.loads(done.stdout.split('<pre id="timing">')[1].split("</pre>")[0])
    return {"open_seconds": timing["load_ms"] / 1000.0, "markers_drawn": timing["points"],
            "browser_seconds": seconds, "browser_cpu_seconds": cpu}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default="pandapower:case9241pegase")
    parser.add_argument("--clusters", type=int, default=8)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)

    import gridcoherence as gc
    from gridcoherence.reduction.clustering import spectral_clustering
    from gridcoherence.report.html import write_run_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the case's negative reactances are not what is measured
        start = time.perf_counter()
        case = gc.load_case(args.case)
        load_seconds = time.perf_counter() - start
    model = case.model
    labels = spectral_clustering(model.laplacian, args.clusters, embedding="inertia", inertia=model.inertia,
                                 random_state=0).labels_
    sizes = np.bincount(labels, minlength=args.clusters)
    table = pd.DataFrame({"model": "original", "group": [f"cluster {c}" for c in range(args.clusters)],
                          "n_nodes": sizes})
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        written = write_run_report(folder, case=case, table=table, labels=labels,
                                   provenance={"command": ["python", "scripts/bench_report.py", *sys.argv[1:]]})
        render_seconds = time.perf_counter() - start
        page = Path(folder) / "report.html"
        browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        opened = {"open_seconds": None}
        if browser is not None:
            blank = Path(folder) / "blank.html"
            blank.write_text("<!DOCTYPE html><html><body><div id=area-map></div></body></html>")
            opened = {**open_in_chromium(browser, page),
                      "blank_page_cpu_seconds": open_in_chromium(browser, blank)["browser_cpu_seconds"]}
        result = {
            "case": args.case, "machines": model.n, "buses": case.metadata.details.get("n_buses"),
            "branches": int(len(case.metadata.details["bus_grid"].branches)), "clusters": args.clusters,
            "load_seconds": load_seconds, "render_seconds": render_seconds,
            "report_bytes": page.stat().st_size, "area_map_bytes": written[0].stat().st_size,
            **opened,
            "targets": {"render_seconds": 10.0, "open_seconds": 3.0},
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
