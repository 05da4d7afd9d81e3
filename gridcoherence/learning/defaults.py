"""Every experiment setting of Chapter 2 in one place, marked [TEXT] or [UNSPEC].

[TEXT] values are stated in the dissertation; [UNSPEC] values are our choice where the text is
silent (spec sections 5 and 10). Each experiment has a full setting (reproduces the figure) and a
``quick`` variant (seconds; used by tests and CI). :func:`settings` returns the right one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = [
    "GF_RTOL",
    "GF_ATOL",
    "Fig23Settings",
    "Fig24Settings",
    "Fig25Settings",
    "Fig26Settings",
    "Fig211Settings",
    "Fig212Settings",
    "settings",
]

#: Gradient-flow tolerances for the theory checks (spec section 6).
GF_RTOL = 1e-10
GF_ATOL = 1e-12


@dataclass(frozen=True)
class Fig23Settings:
    """E1: scaled factorisation ``1/2 ||Y - U V^T/sqrt(m h)||^2`` with X = I."""

    n: int = 20  # [TEXT]
    m: int = 5  # [TEXT]
    widths: tuple = (30, 50, 1000)  # [TEXT] h = 30 and 1000; h = 50 also named once
    step_size: float = 1e-3  # [UNSPEC]
    max_iter: int = 100_000  # [UNSPEC]
    stop_excess: float = 1e-12  # [UNSPEC]
    record_every: int = 100  # [UNSPEC]


@dataclass(frozen=True)
class Fig24Settings:
    """E2: convergence versus initial imbalance, ``Sigma_x = I_r``, averaged loss ``||.||^2/N``."""

    N: int = 10  # [UNSPEC]
    n: int = 20  # [UNSPEC]
    m: int = 3  # [UNSPEC]
    h: int = 50  # [UNSPEC]
    scale_product: float = 0.1  # [UNSPEC] s_U s_V
    ratios: tuple = (1.0, 4.0, 16.0, 64.0)  # [UNSPEC] s_U / s_V
    step_size: float = 5e-3  # [UNSPEC] on the averaged loss; GF time t = 2 eta k / N
    max_iter: int = 20_000  # [UNSPEC]
    record_every: int = 20  # [UNSPEC]


@dataclass(frozen=True)
class Fig25Settings:
    """E3: implicit bias of wide networks, ``N(0, 1/h)`` init (alpha_init = 1/2)."""

    N: int = 10  # [UNSPEC]
    n: int = 40  # [UNSPEC]
    m: int = 3  # [UNSPEC]
    widths: tuple = (500, 1000, 2000, 4000, 8000, 10000)  # [TEXT] range 500..10000; grid [UNSPEC]
    runs: int = 5  # [TEXT]
    step_scale: float = 0.2  # [UNSPEC] eta = step_scale / sigma_1(X)^2
    stop_excess: float = 1e-12  # [UNSPEC]
    max_iter: int = 20_000  # [UNSPEC]


@dataclass(frozen=True)
class Fig26Settings:
    """E4: three-layer networks; Delta* at random init and GD against exp(-2 Delta* t)."""

    n_left: int = 5  # [TEXT]
    width_left: int = 200  # [TEXT]
    draws: int = 100  # [TEXT]
    widths: tuple = (10, 50, 200)  # [UNSPEC]
    step_size: float = 1e-3  # [UNSPEC]
    max_iter: int = 20_000  # [UNSPEC]
    record_every: int = 10  # [UNSPEC]
    stop_ratio: float = 1e-12  # [UNSPEC] stop when L - L* < stop_ratio (L(0) - L*)


@dataclass(frozen=True)
class Fig211Settings:
    """E5: toy ReLU network on planar separable data."""

    n_per_class: int = 10  # [UNSPEC]
    h: int = 50  # [TEXT]
    init_var: float = 1e-6  # [TEXT] variance of every entry of W and v
    step_size: float = 2e-3  # [TEXT]
    iterations: int = 20_000  # [UNSPEC] (t = 40)
    record_every: int = 10  # [UNSPEC]
    reduction: str = "sum"  # [UNSPEC] the theory's loss


@dataclass(frozen=True)
class Fig212Settings:
    """E6: digits 0 vs 1 (MNIST from IDX files, or the sklearn 8x8 digits proxy)."""

    h: int = 50  # [TEXT]
    init_var: float = 1e-5  # [TEXT]
    step_size: float = 2e-3  # [TEXT]
    iterations: int = 15_000  # [TEXT] at least 15000
    record_every: int = 50  # [UNSPEC]
    n_per_class: int | None = None  # [UNSPEC] all training images of the two digits
    reduction: str = "mean"  # [UNSPEC] the sum is unstable at eta = 2e-3 with ~1e4 samples
    positive_digit: int = 1  # [UNSPEC] y = +1 for digit 1 (heat map lists digit 1 first)


_FULL = {
    "fig2_3": Fig23Settings(),
    "fig2_4": Fig24Settings(),
    "fig2_5": Fig25Settings(),
    "fig2_6": Fig26Settings(),
    "fig2_11": Fig211Settings(),
    "fig2_12": Fig212Settings(),
}

_QUICK = {
    "fig2_3": replace(_FULL["fig2_3"], widths=(30, 1000), max_iter=3000, record_every=30),
    "fig2_4": replace(_FULL["fig2_4"], max_iter=2000, record_every=20),
    "fig2_5": replace(_FULL["fig2_5"], widths=(200, 400, 800, 1600), runs=2),
    "fig2_6": replace(_FULL["fig2_6"], draws=10, widths=(10, 50), max_iter=3000),
    "fig2_11": replace(_FULL["fig2_11"], iterations=5000),
    "fig2_12": replace(_FULL["fig2_12"], iterations=1500, n_per_class=60),
}


def settings(name, quick=False):
    """Settings dataclass of experiment ``name`` (e.g. ``"fig2_3"``), quick or full."""
    table = _QUICK if quick else _FULL
    if name not in table:
        raise ValueError(f"unknown experiment {name!r}; expected one of {sorted(table)}")
    return table[name]
