"""The ``gridcoherence`` command line.

Commands (``gridcoherence COMMAND --help`` shows each one's options and examples):

* ``cases``      bundled cases with their size, machines and lambda_2;
* ``info``       one case: network summary, Laplacian spectrum, suggested clusters, passivity;
* ``reduce``     the whole pipeline on a case, writing the comparison table, the accuracy
                 (error vs k; with ``--tolerance`` the k and orders it chooses and the
                 verdict), plots and the reduced model (JSON readable by
                 :func:`gridcoherence.load_reduced`);
* ``compare``    the comparison table for several reduction choices and saved reduced
                 models side by side, each row naming the partition it uses;
* ``reproduce``  every figure and table of the dissertation the package covers;
* ``sweep``      a resumable Monte-Carlo study, serially or on Dask;
* ``export``     a reduced model (``reduce``'s ``reduced_model.json``) as a dynamic equivalent
                 for TOPS, PSS/E or pandapower.
* ``validate``   a TOPS case against the TOPS simulator: electromechanical modes and a
                 load step, our full and reduced models side by side (extra ``validate``).

Areas and machines are numbered from 1 in everything printed and written (area c + 1 is
cluster c of the library). Progress bars (tqdm) appear on stderr only when it is a
terminal; otherwise the output is the same without them.

Exit codes: 0 success; 2 bad usage or bad input (unknown case, an option out of range,
unreadable or malformed file, unwritable output folder), found before any computation
where the input alone decides it; 1 a computation that failed. Errors are one line on
stderr; ``--verbose`` adds the traceback. Every output file is written atomically, so an
interrupted run leaves no partial file.

The ``--out`` folder of ``reduce``, ``compare`` and ``validate`` is a run folder, written as a whole:
an earlier run in it is replaced only once the new run is complete (``--keep-previous``
keeps it as ``OUT.previous``), so the folder holds one complete run, never a mix. Its
manifest ``run.json`` records the command line, the package version, the case with a
SHA-256 hash of its file, the options and seeds, every warning of the run and every file
with its size; ``report.html`` shows the run on one page. A folder that is not a run
folder (no ``run.json``) and not empty is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
import textwrap
import traceback
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from ._extras import MissingExtraError

__all__ = ["main"]

log = logging.getLogger("gridcoherence")


class UsageError(Exception):
    """Bad usage or input the user can fix: exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- option types
def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _finite(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _integer_at_least(minimum, reason):
    """An option type: an integer >= ``minimum``; ``reason`` says why, in the error."""

    def parse(text):
        value = _integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} ({reason}), got {value}")
        return value

    return parse


def _positive(unit):
    """An option type: a finite number > 0 in ``unit``."""

    def parse(text):
        value = _finite(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a finite number > 0 ({unit}), got {text}")
        return value

    return parse


def _amplitude(text):
    value = _finite(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0: a zero step has no response")
    return value


def _seed(text):
    value = _integer(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be a k-means seed in 0..{2**32 - 1}, got {value}")
    return value


def _machine(text):
    """A machine number 1..n (checked against the case later) or a machine name."""
    text = text.strip()
    try:
        number = int(text)
    except ValueError:
        if not text:
            raise argparse.ArgumentTypeError("must be a machine number 1..n or a machine name, got ''") from None
        return text
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a machine number 1..n (machines count from 1), got {number}")
    return number


def _order_option(text):
    """The type of --order: an integer (checked against the method's minimum later) or ``auto``."""
    return "auto" if text == "auto" else _integer(text)


def _weight_option(text):
    """The type of --weight: ``none`` (None) or ``band:LOW:HIGH`` in rad/s -> (LOW, HIGH)."""
    if text == "none":
        return None
    kind, _, edges = text.partition(":")
    low, _, high = edges.partition(":")
    try:
        band = (float(low), float(high))
    except ValueError:
        band = None
    if kind != "band" or band is None or not all(map(math.isfinite, band)) or not 0 < band[0] < band[1]:
        raise argparse.ArgumentTypeError(f"must be none or band:LOW:HIGH with 0 < LOW < HIGH in rad/s, got {text!r}")
    return band


def _order_problem(order, method):
    """Why ``order`` is too small for ``method``, or None."""
    from .reduction.machines import MINIMUM_ORDER, MINIMUM_ORDER_REASON

    if order not in (None, "auto") and order < MINIMUM_ORDER[method]:
        return f"must be at least {MINIMUM_ORDER[method]} for method {method} ({MINIMUM_ORDER_REASON}), got {order}"
    return None


def _model_spec(text):
    """'k=2,order=3,method=tb' -> dict; bare integers mean k (the type of --models)."""
    spec = {"k": None, "order": None, "method": "cl"}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        if not value:
            key, value = "k", key
        if key not in spec:
            raise argparse.ArgumentTypeError(f"{text!r}: unknown key {key!r} (use k, order, method)")
        if key == "method":
            if value not in ("cl", "tb"):
                raise argparse.ArgumentTypeError(f"{text!r}: method must be cl or tb")
            spec[key] = value
        else:
            try:
                spec[key] = int(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r}: {key} must be an integer") from None
    if spec["k"] is not None and spec["k"] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: k must be at least 1 (one cluster per area), got {spec['k']}")
    problem = _order_problem(spec["order"], spec["method"])
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r}: order {problem}")
    return {"text": text, **spec}


# ---------------------------------------------------------------------------- helpers
def _load(case, keep_main_island=False):
    from .cases.loader import load_case
    from .cases.schema import CaseError
    from .cases.powerflow import IslandError

    try:
        return load_case(case, keep_main_island=True if keep_main_island else None)
    except CaseError as exc:
        if isinstance(exc.__cause__, IslandError) and not keep_main_island:
            raise UsageError(f"{exc} (use --keep-main-island)") from exc
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(str(exc)) from exc


def _check_run_folder(args):
    """Refuse an ``--out`` that cannot become a run folder, before any work."""
    from ._io import RunFolderError, check_run_folder

    if args.out is None:
        if args.keep_previous:
            raise UsageError("--keep-previous needs --out")
        return
    try:
        check_run_folder(args.out, keep_previous=args.keep_previous)
    except RunFolderError as exc:
        raise UsageError(f"--out: {exc}") from exc


def _run_record(args):
    """What made this run, for the run folder's manifest."""
    options = {key: value for key, value in vars(args).items()
               if key not in ("run", "command", "command_line", "quiet", "verbose", "warnings")}
    return {"command": args.command_line, "options": options, "seeds": {"k_means": args.seed},
            "warnings": [f"{w.category.__name__}: {w.message}" for w in args.warnings]}


@contextlib.contextmanager
def _recorded_warnings():
    """Record the run's warnings for its run folder, then show them as they would have been shown.

    The filters in force apply as usual (an "error" filter still raises); on leaving, every
    recorded warning goes through them again, so it is printed (or caught) as before.
    """
    with warnings.catch_warnings(record=True) as caught:
        try:
            yield caught
        finally:
            recorded = list(caught)
    for message in recorded:
        warnings.warn_explicit(message.message, message.category, message.filename, message.lineno,
                               source=message.source)


def _output_dir(path):
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output folder {path}: {exc.strerror or exc}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {path} is not writable")
    return path


def _check_clusters(k, model, option="--clusters"):
    if k is not None and not 1 <= k <= model.n:
        raise UsageError(f"{option} must be between 1 and {model.n} (the number of machines), got {k}")


def _print_table(frame, stream=None):
    from .report.export import table_to_markdown

    print(table_to_markdown(frame), file=stream or sys.stdout)


def _disturbance(model, machine, amplitude):
    """The step disturbance at ``machine`` (a number 1..n or a name of ``model.node_names``)."""
    if isinstance(machine, str):
        names = list(model.node_names or [])
        if machine not in names:
            listed = f"its machines are {', '.join(names)}" if names else "its machines have no names"
            raise UsageError(f"--disturbance: the case has no machine named {machine!r}; {listed} "
                             f"(or give a machine number 1..{model.n})")
        index = names.index(machine)
    else:
        if machine > model.n:
            raise UsageError(f"--disturbance must be a machine number 1..{model.n}, got {machine}")
        index = machine - 1
    return amplitude * model.input_shape(index)


def _read_areas(path, model):
    """The partition of an ``--areas`` CSV file ``machine,area``.

    A machine is a name of the case's machines or a number 1..n; an area is any label.
    Returns the cluster of every node (areas numbered in order of their first machine,
    as the reduction numbers them) and the file's label of every area in that order.
    """
    import csv

    names = [str(name) for name in model.node_names] if model.node_names is not None else []
    by_name = {name: i for i, name in enumerate(names)}

    def problem(line, text):
        return UsageError(f"--areas {path}: line {line}: {text}")

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--areas {path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    numbered = [(line, [cell.strip() for cell in row]) for line, row in enumerate(rows, 1) if any(map(str.strip, row))]
    if not numbered or [cell.lower() for cell in numbered[0][1]] != ["machine", "area"]:
        got = ",".join(numbered[0][1]) if numbered else "an empty file"
        raise problem(numbered[0][0] if numbered else 1, f"the header must be 'machine,area', got {got!r}")
    area_of, first_line = {}, {}
    for line, row in numbered[1:]:
        if len(row) != 2:
            raise problem(line, f"expected 2 fields (machine,area), got {len(row)}")
        machine, area = row
        if machine in by_name:
            node = by_name[machine]
        elif machine.isdigit() and 1 <= int(machine) <= model.n:
            node = int(machine) - 1
        else:
            raise problem(line, f"field 'machine': unknown machine {machine!r} (a machine name of the case or "
                                f"a number 1..{model.n})")
        if not area:
            raise problem(line, "field 'area': empty")
        if node in area_of:
            raise problem(line, f"field 'machine': machine {machine!r} is listed twice (first on line "
                                f"{first_line[node]})")
        area_of[node], first_line[node] = area, line
    missing = [i for i in range(model.n) if i not in area_of]
    if missing:
        shown = [names[i] if names else str(i + 1) for i in missing[:10]]
        raise UsageError(f"--areas {path}: machine(s) {', '.join(shown)}{' ...' if len(missing) > 10 else ''} "
                         "have no area: every machine needs one")
    labels = [area_of[i] for i in range(model.n)]
    order = list(dict.fromkeys(labels))
    return np.array([order.index(area) for area in labels]), order


def _accuracy_lines(accuracy):
    """The accuracy in its units and relative terms, areas numbered from 1."""
    area = accuracy.worst_area
    return [
        f"band error     {accuracy.band_error_rad_s_per_pu:.4g} rad/s per p.u. on {accuracy.band_text} "
        f"= {100 * accuracy.relative_band_error:.3g} % of sup||T|| ({accuracy.transfer_norm_rad_s_per_pu:.4g} rad/s "
        f"per p.u.), peak at {accuracy.peak_frequency_rad_s:.4g} rad/s",
        f"area error     worst in area {area + 1}: {accuracy.area_error_rad_s[area]:.4g} rad/s = "
        f"{100 * accuracy.worst_area_error:.3g} % of its nadir ({accuracy.area_nadir_rad_s[area]:.4g} rad/s) over "
        f"{accuracy.horizon_s:g} s",
    ]


# ---------------------------------------------------------------------------- commands
def cmd_cases(args):
    import pandas as pd

    from .cases.bundled import bundled_case_index, list_cases

    index = bundled_case_index()
    rows = []
    for name in list_cases():
        if name in index:
            summary = index[name]
        else:  # a case newer than the stored index is loaded once to describe it
            from .cases.loader import case_summary

            summary = case_summary(_load(name))
        rows.append({"case": name, **summary, "buses": summary["buses"] or "-"})
    columns = ["case", "machines", "buses", "edges", "lambda_2", "description"]
    _print_table(pd.DataFrame(rows, columns=columns))
    return 0


def cmd_info(args):
    from .models.eigengap import DEFAULT_MAX_CLUSTERS

    case = _load(args.case, args.keep_main_island)
    model = case.model
    summary = case.spectrum_summary(min(args.eigenvalues, model.n))
    passivity = model.nodes.passivity()
    lines = [
        f"case         {case.name}: {case.metadata.description}",
        f"source       {case.metadata.source}",
        f"machines     {model.n}   edges {model.n_edges}   coupling f(s) = {model.coupling.name}",
        f"nodes        {model.nodes!r}",
        f"lambda_2     {summary['lambda_2']:.6g}",
        "eigenvalues  " + ", ".join(f"{v:.6g}" for v in summary["eigenvalues"]),
        "gaps         " + ", ".join(f"{v:.4g}" for v in summary["gaps"]),
        f"suggested k  {summary['suggested_k']} (largest relative eigengap lambda_(k+1)/lambda_k of the "
        f"{summary['embedding']} embedding, k <= {DEFAULT_MAX_CLUSTERS}, lambda_k < lambda_(k+1); "
        "the k of reduce without --clusters)",
        f"passivity    output strictly passive: {passivity.all_strictly_passive} "
        f"(min eps = {np.min(passivity.epsilon):.4g}; {int(passivity.decided.sum())}/{model.n} decided)",
        f"coupling     positive real: {model.coupling.is_positive_real()}",
    ]
    print("\n".join(lines))
    return 0


def _reduction_label(k, order, method, note=""):
    """'k=3, order=2, cl'; per-area orders that differ are listed: 'order=[2, 3, 2]'."""
    if isinstance(order, (list, tuple)) and len(set(order)) == 1:
        order = order[0]
    return f"k={k}" + ("" if order is None else f", order={order}{note}, {method}")


def _table_label(result, requested, args):
    """The table row label of a reduction, with the orders it actually has.

    ``requested`` names the option that asked for an order (None when none was asked or
    the tolerance search chose them). A reduction that reduces no aggregate is "k=K"; when
    an asked order reduces none (each is already of at
    most that order), the label shows the full aggregates' order and a note on stderr
    says so.
    """
    method = result.options["method"]
    if any(r is not None and r.reduced for r in result.aggregate_reductions):
        return _reduction_label(result.n_clusters, result.orders, method)
    if requested is None:
        return result.label
    full = result.full_orders
    order = result.options["order_requested"]
    why = ("the Hankel singular values keep every aggregate whole" if order == "auto" else
           f"every aggregate is already of order <= {order}")
    if not args.quiet:
        print(f"gridcoherence {args.command}: note: {requested} reduces nothing: {why} "
              f"(orders {', '.join(map(str, full))}); the model keeps the full aggregates", file=sys.stderr)
    return _reduction_label(result.n_clusters, max(full), method, " (full aggregates)")


def _order_request(result, option):
    """The option text that asked for the orders of ``result``, or None."""
    requested = result.options["order_requested"]
    return None if requested is None or requested == "tolerance" else f"{option} {requested}"


def _warn(args, text):
    if not args.quiet:
        print(f"gridcoherence {args.command}: warning: {text}", file=sys.stderr)


def _check_reduce_options(args):
    """Refuse contradictory reduce options before any work."""
    problem = _order_problem(args.order, args.method)
    if problem:
        raise UsageError(f"--order {problem}")
    if args.areas is not None and args.clusters is not None:
        raise UsageError("--areas gives the areas; leave out --clusters")
    if args.tolerance is not None and args.clusters is None and args.areas is None and args.embedding is not None:
        raise UsageError("--embedding: with --tolerance and no --clusters every embedding is tried; leave it out")
    if args.weight is not None and args.order is None and args.tolerance is None:
        raise UsageError("--weight weights the balanced truncation of the aggregates: give --order or --tolerance")


def _how_chosen(args, result):
    """What decided the number of areas of a reduce run."""
    if args.areas is not None:
        return f"the areas of {args.areas}"
    if args.clusters is not None:
        return "--clusters"
    if args.tolerance is None:
        return "the largest eigengap"
    if result.options["met"]:
        return f"the smallest k tried within {100 * args.tolerance:g} %"
    return f"no k tried is within {100 * args.tolerance:g} %: the smallest error tried"


def cmd_reduce(args):
    _check_reduce_options(args)
    _check_run_folder(args)
    from .report.bundle import error_vs_k_table, write_reduction_bundle
    from .report.compare import compare_step_responses
    from .reduction.accuracy import default_band
    from .reduction.pipeline import AreaSizeError, reduce_network

    stages = _stages(args, ["power flow", "eigen-solve and reduction", "simulation", "plots and files"])
    next(stages)
    case = _load(args.case, args.keep_main_island)
    model = case.model
    _check_clusters(args.clusters, model)
    if args.min_area_size > model.n:
        raise UsageError(f"--min-area-size must be at most {model.n} (the number of machines), "
                         f"got {args.min_area_size}")
    partition, area_names = _read_areas(args.areas, model) if args.areas is not None else (None, None)
    u0 = _disturbance(model, args.disturbance, args.amplitude)
    t = np.linspace(0.0, args.horizon, args.points)
    band = default_band(model) if args.band is None else args.band

    next(stages)
    options = {"order": args.order, "method": args.method, "weight": args.weight, "partition": partition,
               "min_area_size": args.min_area_size, "random_state": args.seed}
    if args.tolerance is None:
        options["embedding"] = args.embedding
    else:
        options.update(tolerance=args.tolerance, band=band, u0=u0, t=t, progress=_show_progress(args))
        if args.clusters is not None or partition is not None:
            options["embedding"] = args.embedding
    log.info("reducing %s (%d machines)", case.name, model.n)
    try:
        result = reduce_network(model, args.clusters, **options)
    except AreaSizeError as exc:
        raise UsageError(f"--min-area-size: {exc}") from exc
    accuracy = result.accuracy(band, u0, t)
    if not accuracy.settles:
        _warn(args, f"{case.name} never settles (no damping and no governors: the centre of inertia drifts), so "
                    f"every error below is over the finite horizon of {args.horizon:g} s only")
    label = _table_label(result, _order_request(result, "--order"), args)

    next(stages)
    table = compare_step_responses(model, {label: result.model}, u0=u0, t=t, groups=result.labels)
    curve = error_vs_k_table(result.selection_)

    next(stages)
    write_reduction_bundle(args.out, case, result, table, u0, t, band=band, error_vs_k=curve,
                           tolerance=args.tolerance, run=_run_record(args), keep_previous=args.keep_previous)
    next(stages, None)
    if args.quiet:
        return 0
    _print_table(table)
    print()
    _print_table(curve)
    chosen = curve[curve["chosen"]].iloc[0]
    print(f"\nchosen         k = {result.n_clusters} ({_how_chosen(args, result)}; {result.options['embedding']} "
          f"embedding), area sizes {chosen['area_sizes']}, orders {'/'.join(map(str, result.orders))}")
    if area_names is not None:
        print("areas          " + ", ".join(f"{c + 1} = {name}" for c, name in enumerate(area_names)))
    for row in result.single_machine_areas():
        print(f"single machine {row['reason']}")
    print("\n".join(_accuracy_lines(accuracy)))
    if args.tolerance is not None:
        print(f"verdict        {result.verdict()}")
    print(f"\nwrote {args.out}/report.html, step_comparison.csv, .md, .tex, error_vs_k.csv, .md, plots (*.png), "
          "reduced_model.json, run.json")
    return 0


def _saved_model(path, model):
    """A reduced model read from ``path`` (--saved), checked against the case."""
    from .report.serialization import ReducedModelFileError, load_reduced

    try:
        reduced = load_reduced(path)
    except ReducedModelFileError as exc:
        raise UsageError(f"--saved: {exc}") from exc
    if reduced.n_original != model.n:
        raise UsageError(f"--saved {path}: the model reduces a network of {reduced.n_original} machines; "
                         f"the case has {model.n}")
    return reduced


def cmd_compare(args):
    if not args.models and not args.saved:
        raise UsageError("give --models, --saved or both")
    _check_run_folder(args)
    from .report.bundle import write_comparison_bundle
    from .report.compare import compare_step_responses
    from .reduction.pipeline import reduce_network

    case = _load(args.case, args.keep_main_island)
    model = case.model
    for spec in args.models:
        _check_clusters(spec["k"], model, f"--models {spec['text']!r}: k")
    saved = {path: _saved_model(path, model) for path in args.saved}
    u0 = _disturbance(model, args.disturbance, args.amplitude)
    t = np.linspace(0.0, args.horizon, args.points)
    models, partitions, reductions = {}, {}, {}
    for spec in _progress(args.models, args, "models"):
        result = reduce_network(model, spec["k"], order=spec["order"], method=spec["method"],
                                random_state=args.seed)
        label = _table_label(result, None if spec["order"] is None else f"--models {spec['text']!r}", args)
        models[label], reductions[label] = result.model, result
        partitions[label] = f"k={result.n_clusters} areas of --models {spec['text']}"
    for path, reduced in saved.items():
        label = f"saved {Path(path).name}" + ("" if f"saved {Path(path).name}" not in models else f" ({path})")
        models[label] = reduced
        partitions[label] = f"saved: {path}"
    first = next(iter(models.values()))
    table = compare_step_responses(model, models, u0=u0, t=t, groups=first.labels)
    table.insert(1, "partition", table["model"].map(partitions).fillna("-"))
    if args.out:
        write_comparison_bundle(args.out, case, table, models=models, u0=u0, t=t, reductions=reductions,
                                run=_run_record(args), keep_previous=args.keep_previous)
    if not args.quiet:
        _print_table(table)
    return 0


def cmd_validate(args):
    _check_run_folder(args)
    from ._extras import require
    from ._io import atomic_directory, write_manifest
    from .studies.validation import ValidationInputError, validate

    require("tops", "validate", "validation against TOPS")
    case = _load(args.case)
    _check_clusters(args.clusters, case.model)
    log.info("validating %s (%d machines) against TOPS", case.name, case.model.n)
    try:
        result = validate(case, args.clusters, reference=args.reference, load=args.load,
                          step_percent=args.step_percent, damping=args.damping, duration=args.duration)
    except ValidationInputError as exc:
        raise UsageError(str(exc)) from exc
    options = {key: vars(args)[key] for key in ("clusters", "reference", "load", "step_percent", "damping",
                                                "duration")}
    with atomic_directory(args.out, keep_previous=args.keep_previous) as folder:
        written = result.write(folder)
        write_manifest(folder, {"command": args.command_line, "case": case.name, "options": options})
    if not args.quiet:
        print(f"electromechanical modes: {case.name} against TOPS {result.reference}\n")
        _print_table(result.to_frame("modes"))
        if result.time_domain is not None:
            step = result.disturbance
            print(f"load step: {step['step_percent']:g} % of {step['load']} at bus {step['bus']} "
                  f"({step['step_mw']:.4g} MW; {step['net_step_mw']:.4g} MW net of the loads' voltage response)\n")
            _print_table(result.to_frame("time"))
        print(f"wrote {', '.join(p.name for p in written)} and run.json to {args.out}")
    return 0


def cmd_reproduce(args):
    from .studies.reproduce import experiments, reproduce

    available = experiments()
    if args.only:
        unknown = [n for n in args.only if n not in available]
        if unknown:
            raise UsageError(f"unknown experiment(s) {', '.join(unknown)}; available: {', '.join(available)}")
    if args.mnist is not None and not Path(args.mnist).exists():
        raise UsageError(f"--mnist: {args.mnist} does not exist")
    out = _output_dir(args.out)
    results = reproduce(out, args.only, quick=args.quick, progress=_show_progress(args), mnist_path=args.mnist)
    if not args.quiet:
        print(f"wrote {len(results)} experiment(s) to {out}: {', '.join(results)}")
    return 0


def _parse_seeds(text):
    """'A:B' (half-open range) or 'a,b,c' -> list of ints."""
    try:
        if ":" in text:
            start, _, stop = text.partition(":")
            seeds = list(range(int(start), int(stop)))
        else:
            seeds = [int(s) for s in text.split(",")]
    except ValueError as exc:
        raise UsageError(f"--seeds {text!r} must be A:B or a comma list of integers") from exc
    if not seeds:
        raise UsageError(f"--seeds {text!r} is empty: A:B runs the seeds A, ..., B-1, so B must exceed A")
    return seeds


def _parse_param(text):
    """'name=v1,v2' -> (name, ['v1', 'v2']); the sweep converts the text to the parameter's type."""
    key, _, values = text.partition("=")
    if not key or not values:
        raise UsageError(f"--param {text!r} must look like name=v1,v2,...")
    return key, values.split(",")


#: The command-line option of each argument of :func:`gridcoherence.studies.sweeps.sweep`.
_SWEEP_OPTIONS = {"seeds": "--seeds", "params": "--param", "out": "--out"}


def cmd_sweep(args):
    from .studies.sweeps import SweepError, plan_sweep, sweep

    seeds = _parse_seeds(args.seeds)
    params = {}
    for text in args.param:
        key, values = _parse_param(text)
        if key in params:
            raise UsageError(f"--param {key} is given twice; list all its values once: {key}=v1,v2,...")
        params[key] = values
    out = Path(args.out)
    scheduler = args.scheduler or ("local" if args.workers > 1 else "serial")
    try:
        plan_sweep(args.study, seeds, params)  # bad input is refused before any file is made
        _output_dir(out.parent)
        result = sweep(args.study, seeds, params, out=out, scheduler=scheduler,
                       n_workers=args.workers, progress=_show_progress(args), parquet=args.parquet)
    except SweepError as exc:
        option = _SWEEP_OPTIONS.get(exc.argument)
        raise UsageError(f"{option}: {exc}" if option else str(exc)) from exc
    if not args.quiet:
        print(f"{result.n_run} run(s) done, {result.n_skipped} already finished; table: {result.path}")
    return 0


#: The file(s) ``export --to FORMAT --out PATH`` writes.
_EXPORT_FILES = {"tops": "PATH, a TOPS model (JSON; name it .json for tops.dynamic.PowerSystemModel)",
                 "psse": "PATH.raw and PATH.dyr (PSS/E version 33)",
                 "pandapower": "PATH, a pandapower net (JSON, pandapower.from_json)"}


def cmd_export(args):
    from ._io import atomic_write, write_json
    from .report.equivalent import EquivalentError, dynamic_equivalent, to_pandapower, to_tops_model, write_psse
    from .report.serialization import ReducedModelFileError, load_reduced

    out = Path(args.out)
    if not out.name:
        raise UsageError(f"--out {args.out!r} must name a file")
    if not out.parent.is_dir():
        raise UsageError(f"--out: folder {out.parent} does not exist")
    try:
        reduced = load_reduced(args.reduced)
        equivalent = dynamic_equivalent(reduced, base_mva=args.base_mva, frequency_hz=args.frequency_hz,
                                        rating_mva=args.rating_mva, load_mw=args.load_mw)
    except (ReducedModelFileError, EquivalentError) as exc:
        raise UsageError(str(exc)) from exc
    if args.to == "tops":
        write_json(out, to_tops_model(equivalent))
        written = [out]
    elif args.to == "psse":
        stem = out.with_suffix("") if out.suffix.lower() in (".raw", ".dyr") else out
        written = [stem.with_name(stem.name + ".raw"), stem.with_name(stem.name + ".dyr")]
        write_psse(equivalent, *written)
    else:
        import pandapower as pp

        with atomic_write(out) as handle:
            handle.write(pp.to_json(to_pandapower(equivalent)))
        written = [out]
    if not args.quiet:
        print(f"wrote {' and '.join(map(str, written))}: {equivalent.n} areas, base {args.base_mva:g} MVA, "
              f"{args.frequency_hz:g} Hz")
    return 0


# ---------------------------------------------------------------------------- parser
def _show_progress(args):
    return not args.quiet and sys.stderr.isatty()


def _progress(items, args, desc):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, disable=not _show_progress(args))


def _stages(args, names):
    """A progress bar over a command's stages, on stderr only when it is a terminal.

    A generator: each ``next`` finishes the stage in progress and names the next one.
    """
    from tqdm.auto import tqdm

    with tqdm(total=len(names), disable=not _show_progress(args), leave=False) as bar:
        for name in names:
            bar.set_description(name)
            yield
            bar.update()


def _add_common(parser):
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details; tracebacks on errors")


def _add_case(parser):
    parser.add_argument("case", help="bundled name, case .toml, pandapower JSON, MATPOWER file, pandapower:NAME or "
                                     "tops:NAME (extra validate)")
    parser.add_argument("--keep-main-island", action="store_true",
                        help="a power network with islands: keep its largest machine group instead of refusing it")


def _add_step_options(parser):
    parser.add_argument("--disturbance", type=_machine, default=1, metavar="MACHINE",
                        help="machine of the step disturbance: its number 1..n or its name as "
                             "'gridcoherence info' lists them (default 1)")
    parser.add_argument("--amplitude", type=_amplitude, default=-1.0,
                        help="step size in p.u. on the system base, nonzero (default -1: a loss of generation)")
    parser.add_argument("--horizon", type=_positive("s"), default=120.0,
                        help="simulated time in s (default 120, long enough for most grids to settle)")
    parser.add_argument("--points", type=_integer_at_least(2, "a time grid from 0 to --horizon"), default=2401,
                        help="time points (default 2401)")
    parser.add_argument("--seed", type=_seed, default=0, help="k-means seed (default 0)")


def _add_run_folder(parser, required):
    parser.epilog += (
        "\n\nrun folder: --out is written as a whole. An earlier run in it is replaced only once\n"
        "the new run is complete, so it never holds parts of two runs; a folder with other files\n"
        "and no run.json is refused. run.json records the command line, the package version,\n"
        "the case and a SHA-256 hash of its file, the options and seeds, and every file's size.")
    help_text = "run folder: created, or an earlier run folder replaced once the new run is complete"
    parser.add_argument("--out", "-o", required=required, help=help_text if required else f"also write a {help_text}")
    parser.add_argument("--keep-previous", action="store_true",
                        help="keep the earlier run of --out as OUT.previous instead of removing it")


def build_parser():
    def command(name, help_text, examples):
        sub = subparsers.add_parser(
            name, help=help_text, description=help_text,
            epilog="examples:\n" + textwrap.indent(examples.strip(), "  "),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_common(sub)
        return sub

    parser = _Parser(
        prog="gridcoherence",
        description="Coherent clusters, aggregate machines and reduced models of power networks.",
        epilog="examples:\n  gridcoherence cases\n  gridcoherence info iceland\n"
               "  gridcoherence reduce kundur_two_area --tolerance 0.05 --out out/\n"
               "exit codes: 0 success, 2 bad usage or input, 1 failed computation",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub = command("cases", "list the bundled cases with machines, buses, edges and lambda_2",
                  "gridcoherence cases")
    sub.set_defaults(run=cmd_cases)

    sub = command("info", "summary of one case: network, Laplacian spectrum, suggested clusters, passivity",
                  "gridcoherence info iceland\ngridcoherence info pandapower:case39 --eigenvalues 10")
    _add_case(sub)
    sub.add_argument("--eigenvalues", type=_integer_at_least(2, "lambda_1 = 0 and lambda_2"), default=8,
                     help="how many smallest eigenvalues (default 8, at least 2)")
    sub.set_defaults(run=cmd_info)

    sub = command("reduce", "cluster, aggregate, reduce; write table, accuracy, plots and the reduced model",
                  "gridcoherence reduce kundur_two_area --tolerance 0.1 --out kundur/\n"
                  "gridcoherence reduce iceland --clusters 3 --order auto --out iceland_k3/\n"
                  "gridcoherence reduce iceland --clusters 3 --order 3 --method tb "
                  "--weight band:0.1:10 --out iceland_tb/\n"
                  "gridcoherence reduce iceland --areas areas.csv --order 2 --out iceland_areas/")
    sub.epilog += (
        "\n\naccuracy: the band error sup_|w|<=BAND ||T - That_k|| in rad/s per p.u. and relative to\n"
        "sup ||T||, and per area the largest step-response error of its centre of inertia relative\n"
        "to the area's nadir, for the --disturbance step over --horizon. --tolerance TOL picks the\n"
        "smallest k whose errors are both within TOL (then, without --order, the smallest orders)\n"
        "and writes the error-vs-k curve; with --clusters or --areas it measures that reduction.\n"
        "Areas and machines are numbered from 1 in everything printed and written.\n"
        "--areas FILE: a CSV file with the header machine,area and one row per machine (its name\n"
        "or number 1..n, and any area label).")
    _add_case(sub)
    sub.add_argument("--clusters", "-k", type=int, default=None,
                     help="number of areas K (default: the smallest within --tolerance, else the largest eigengap)")
    sub.add_argument("--tolerance", type=_positive("a relative error, 0.05 for 5 %"), default=None,
                     help="largest relative error (band and area step errors, 0.05 for 5 %%): chooses K, "
                          "or measures the given K, and prints the verdict")
    sub.add_argument("--areas", metavar="FILE", default=None,
                     help="known control areas: a CSV file machine,area (instead of clustering)")
    sub.add_argument("--order", "-r", type=_order_option, default=None,
                     help="order R of each reduced aggregate machine, at least 2 (swing and one turbine state), or auto "
                          "(from the weighted Hankel singular values); default: keep the full aggregates, or with "
                          "--tolerance the smallest orders within it")
    sub.add_argument("--method", choices=("cl", "tb"), default="cl",
                     help="aggregate reduction: cl (closed loop) or tb (turbines), default cl")
    sub.add_argument("--weight", type=_weight_option, default=None, metavar="none|band:LOW:HIGH",
                     help="frequency weight of the aggregates' balanced truncation: a band-pass on LOW..HIGH "
                          "rad/s, or none (default: the output weight of Sec. 3.3.3)")
    sub.add_argument("--min-area-size", type=_integer_at_least(1, "an area holds at least one machine"), default=1,
                     metavar="N", help="fewest machines per area (default 1: single-machine areas are allowed "
                                       "and the output says why each stands alone)")
    sub.add_argument("--band", type=_positive("rad/s"), default=None,
                     help="band |w| <= BAND (rad/s) of the band error (default 6.28 = 1 Hz, the inter-area range, "
                          "for machines; 1 for networks without inertia)")
    sub.add_argument("--embedding", choices=("laplacian", "normalized", "inertia"), default=None,
                     help="spectral embedding for clustering (default: inertia-weighted slow coherency "
                          "when every node has inertia, else laplacian; info suggests k on the same)")
    _add_run_folder(sub, required=True)
    _add_step_options(sub)
    sub.set_defaults(run=cmd_reduce)

    sub = command("compare", "step-response table of several reduction choices side by side",
                  "gridcoherence compare iceland --models k=2 k=3 k=3,order=2\n"
                  "gridcoherence compare iceland --models 3,order=2 3,order=3 3,order=3,method=tb --out cmp/\n"
                  "gridcoherence compare iceland --models 3 --saved iceland/reduced_model.json --out cmp/")
    _add_case(sub)
    sub.add_argument("--models", nargs="+", default=[], metavar="SPEC", type=_model_spec,
                     help="reduction choices: k=K[,order=R][,method=cl|tb] (a bare number is k)")
    sub.add_argument("--saved", nargs="+", default=[], metavar="FILE",
                     help="reduced models written by reduce (reduced_model.json) to compare too")
    _add_run_folder(sub, required=False)
    _add_step_options(sub)
    sub.set_defaults(run=cmd_compare)

    sub = command("reproduce", "regenerate the dissertation's figures and tables (PNG + JSON)",
                  "gridcoherence reproduce --out figures/\ngridcoherence reproduce --only table3_2 fig3_8 --out t/\n"
                  "gridcoherence reproduce --quick --out smoke/\n"
                  "gridcoherence reproduce --only fig2_12 --mnist mnist.npz --out figures/")
    sub.add_argument("--only", nargs="+", metavar="NAME", help="experiment names (default: all)")
    sub.add_argument("--quick", action="store_true", help="small settings that run in seconds")
    sub.add_argument("--mnist", metavar="PATH",
                     help="local MNIST for Fig. 2-12: a folder of IDX files, train-images-idx3-ubyte[.gz] "
                          "or an .npz with x_train, y_train (default: scikit-learn's 8x8 digits, a labelled proxy)")
    sub.add_argument("--out", "-o", required=True,
                     help="output folder; its reproduce_index.json keeps the entries of earlier runs")
    sub.set_defaults(run=cmd_reproduce)

    sub = command("sweep", "run a study over seeds and parameters (resumable; Dask optional)",
                  "gridcoherence sweep concentration --seeds 0:50 --param n=10,100,1000 --out conc.csv\n"
                  "gridcoherence sweep aggregate_inertia --seeds 0:1 --param m=0.02,0.05,0.1 --out m.csv\n"
                  "gridcoherence sweep thm3_10 --seeds 0:100 --param n=80,320 --workers 2 --out sbm.csv\n"
                  "gridcoherence sweep thm3_10 --seeds 0:100 --scheduler tcp://host:8786 --out sbm.csv")
    sub.epilog += (
        "\n\nresuming: a row of --out is reused when its study, package version, seed and the\n"
        "value of every parameter of the study (given or default) are those asked for; other\n"
        "rows stay in the file. A file that is not a sweep table of this study is refused and\n"
        "left unchanged. While it runs, a sweep locks OUT.lock; a second sweep on the same\n"
        "file stops at once (exit code 2).")
    sub.add_argument("study", help="study name (concentration, aggregate_inertia, thm3_10)")
    sub.add_argument("--seeds", default="0:10", help="A:B (half-open) or a comma list (default 0:10)")
    sub.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2",
                     help="values of one parameter of the study (repeatable); parameters not given "
                          "take the study's default")
    sub.add_argument("--scheduler", help="'serial', 'local' or a Dask scheduler address tcp://host:port")
    sub.add_argument("--workers", type=int, default=1, help="local Dask workers (default 1: serial)")
    sub.add_argument("--parquet", action="store_true", help="also write the table as Parquet")
    sub.add_argument("--out", "-o", required=True,
                     help="CSV table: created, or resumed if it is a sweep table of this study")
    sub.set_defaults(run=cmd_sweep)

    sub = command("export", "write a reduced model as a dynamic equivalent for TOPS, PSS/E or pandapower",
                  "gridcoherence export iceland_k3/reduced_model.json --to psse --out iceland_k3/equivalent "
                  "--base-mva 100 --frequency-hz 50\n"
                  "gridcoherence export iceland_k3/reduced_model.json --to tops --out iceland_tops.json "
                  "--base-mva 100 --frequency-hz 50")
    sub.epilog += (
        "\n\nOne bus, one classical generator (H, D on its rating) and, with turbines, one TGOV1\n"
        "governor per area; lines from the reduced Laplacian at a flat operating point. Each\n"
        "aggregate must be a physical machine with at most two distinct turbine time constants\n"
        "(reduce with --order 3 or less). Files written per --to:\n" + "\n".join(
            f"  {name:<11} {files}" for name, files in _EXPORT_FILES.items()))
    sub.add_argument("reduced", help="reduced model JSON (reduce --out DIR writes DIR/reduced_model.json)")
    sub.add_argument("--to", required=True, choices=tuple(_EXPORT_FILES), help="simulator format")
    sub.add_argument("--out", "-o", required=True, metavar="PATH",
                     help="output file; for psse the stem of PATH.raw and PATH.dyr. Its folder must exist")
    sub.add_argument("--base-mva", type=_positive("MVA"), required=True,
                     help="system base S_base of the model's per-unit values (MVA)")
    sub.add_argument("--frequency-hz", type=_positive("Hz"), required=True,
                     help="nominal frequency f_s (Hz); the model's frequency deviation is in rad/s")
    sub.add_argument("--rating-mva", type=_positive("MVA"), default=None,
                     help="rating S_n of every equivalent generator, the base of H, D and R (default --base-mva)")
    sub.add_argument("--load-mw", type=_finite, default=0.0,
                     help="active load at every bus, MW >= 0 (default 0: an unloaded flat operating point)")
    sub.set_defaults(run=cmd_export)
    sub = command("validate", "compare a case with the TOPS simulator: modes and a load step (extra 'validate')",
                  "gridcoherence validate tops:k2a --out k2a_validation/\n"
                  "gridcoherence validate tops:ieee39 --k 3 --damping equivalent --out ieee39/\n"
                  "gridcoherence validate kundur_two_area --reference tops:k2a --out kundur/")
    sub.add_argument("case", help="tops:k2a, tops:ieee39, tops:ieee68, tops:n44, or a case whose machines are "
                                  "those of --reference")
    sub.add_argument("--k", "--clusters", dest="clusters", type=int, default=None,
                     help="areas of the reduced model (default: from the largest eigengap)")
    sub.add_argument("--reference", default=None, metavar="tops:NAME",
                     help="the TOPS model to compare with (default: the case's own; other cases: modes only)")
    sub.add_argument("--load", default=None, metavar="NAME",
                     help="TOPS load of the step (default: the load of largest active power)")
    sub.add_argument("--step-percent", type=_positive("%"), default=1.0,
                     help="step of that load's active power, in %% of it (default 1)")
    sub.add_argument("--damping", choices=("data", "equivalent"), default="data",
                     help="damping of the reduced model: the data's, or fitted to TOPS's mode damping "
                          "(both full models are always compared)")
    sub.add_argument("--duration", type=_positive("s"), default=20.0, help="simulated time in s (default 20)")
    _add_run_folder(sub, required=True)
    sub.set_defaults(run=cmd_validate)
    return parser


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    """Entry point of the ``gridcoherence`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    args.command_line = ["gridcoherence", *argv]
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s", stream=sys.stderr)
    # SIGTERM unwinds like Ctrl-C, so atomic writes in progress remove their temporary files;
    # once main is left it terminates as usual again (a KeyboardInterrupt raised after this
    # try would end the process as if by SIGINT, with a traceback).
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with _recorded_warnings() as args.warnings:
            return args.run(args)
    except (UsageError, MissingExtraError) as exc:  # the user can fix it: a missing extra too
        print(f"gridcoherence {args.command}: error: {exc}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2
    except KeyboardInterrupt:
        print(f"gridcoherence {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a failed computation: one line unless --verbose
        print(f"gridcoherence {args.command}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
