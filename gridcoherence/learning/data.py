"""Data sets for the learning-dynamics experiments; nothing is downloaded at run time.

* :func:`read_idx` / :func:`load_mnist_pair` read MNIST from IDX files the user already has
  (plain or gzip-compressed), for Fig. 2-12.
* :func:`load_digits_pair` is the offline proxy: scikit-learn's bundled 8x8 digits
  (:func:`sklearn.datasets.load_digits`). It is NOT MNIST and does not reproduce Fig. 2-12
  quantitatively; results computed from it are labelled ``"sklearn-digits-8x8 (proxy)"``.
* :func:`toy_separable_2d` draws the planar data of Fig. 2-11 (our choice).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import positive_int

__all__ = ["BinaryImages", "read_idx", "load_mnist_pair", "load_digits_pair", "toy_separable_2d"]

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class BinaryImages:
    """Flattened images of two digits with +-1 labels.

    Attributes
    ----------
    X : (n_samples, d_in) numpy.ndarray
        Pixels scaled to [0, 1] (not centred).
    y : (n_samples,) numpy.ndarray
        +1 for ``digits[1]``, -1 for ``digits[0]``.
    image_shape : tuple of int
    source : str
        Human-readable provenance (``"MNIST ..."`` or the proxy label).
    """

    X: np.ndarray
    y: np.ndarray
    image_shape: tuple
    source: str


def read_idx(path):
    """Read an IDX file (the MNIST format), optionally gzip-compressed.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    numpy.ndarray
        Array with the shape stored in the header.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path} is truncated or corrupt: {len(raw)} bytes, expected {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def _find(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"no {stem}[.gz] in {folder}")


def _select(images, labels, digits, n_per_class, random_state, image_shape, source):
    rng = np.random.default_rng(random_state)
    keep = []
    for digit in digits:
        index = np.flatnonzero(labels == digit)
        if n_per_class is not None and n_per_class < len(index):
            index = np.sort(rng.choice(index, size=n_per_class, replace=False))
        keep.append(index)
    index = np.concatenate(keep)
    X = images[index].reshape(len(index), -1).astype(float)
    X /= X.max()
    y = np.where(labels[index] == digits[1], 1.0, -1.0)
    return BinaryImages(X=X, y=y, image_shape=image_shape, source=source)


def load_mnist_pair(folder, digits=(0, 1), n_per_class=None, random_state=0):
    """MNIST training images of two digits from IDX files in ``folder``.

    Parameters
    ----------
    folder : str or Path
        Holds ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (optionally ``.gz``).
    digits : (int, int)
        ``digits[1]`` gets label +1 (the text lists digit 1 first), ``digits[0]`` gets -1.
    n_per_class : int, optional
        Random subset size per digit (all images if omitted).
    random_state : int, optional

    Returns
    -------
    BinaryImages
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist")
    images = read_idx(_find(folder, "train-images-idx3-ubyte"))
    labels = read_idx(_find(folder, "train-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError("MNIST images and labels have different lengths")
    return _select(images, labels, digits, n_per_class, random_state, images.shape[1:], f"MNIST ({folder})")


def load_digits_pair(digits=(0, 1), n_per_class=None, random_state=0):
    """Offline proxy for MNIST: scikit-learn's bundled 8x8 digits (about 180 images per digit)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _select(
        bunch.images, bunch.target, digits, n_per_class, random_state, (8, 8), "sklearn-digits-8x8 (proxy)"
    )


def toy_separable_2d(n_per_class=10, random_state=0):
    """Planar data satisfying Assumption 2.2 (for Fig. 2-11; not stated in the dissertation, chosen here).

    Positive points at angles U(-30, 30) degrees, negative at U(150, 210) degrees, radii U(0.5, 1.5).

    Returns
    -------
    X : (2 n_per_class, 2) numpy.ndarray
    y : (2 n_per_class,) numpy.ndarray
    """
    n_per_class = positive_int(n_per_class, "n_per_class")
    rng = np.random.default_rng(random_state)
    angles = np.deg2rad(np.concatenate([rng.uniform(-30, 30, n_per_class), rng.uniform(150, 210, n_per_class)]))
    radii = rng.uniform(0.5, 1.5, 2 * n_per_class)
    X = radii[:, None] * np.column_stack([np.cos(angles), np.sin(angles)])
    y = np.concatenate([np.ones(n_per_class), -np.ones(n_per_class)])
    return X, y
