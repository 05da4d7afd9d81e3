"""Data sets for the learning-dynamics experiments; nothing is downloaded at run time.

* :func:`read_idx`, :func:`read_mnist` and :func:`load_mnist_pair` read MNIST from files the
  user already has (IDX, plain or gzip-compressed, or an ``.npz`` archive read without
  pickle), for Fig. 2-12.
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

__all__ = ["BinaryImages", "read_idx", "read_mnist", "load_mnist_pair", "load_digits_pair", "toy_separable_2d"]

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


def read_mnist(path):
    """MNIST training images and labels from a local file or folder; nothing is unpickled.

    Parameters
    ----------
    path : str or Path
        One of: a folder holding ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
        (optionally ``.gz``); the training-images IDX file itself (the labels file is found
        beside it); or an ``.npz`` archive with arrays ``x_train`` and ``y_train`` (the
        layout of the widely distributed ``mnist.npz``), read with ``allow_pickle=False``.

    Returns
    -------
    images : (n, rows, cols) numpy.ndarray
    labels : (n,) numpy.ndarray
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"MNIST path {path} does not exist")
    if path.is_dir():
        images_file, labels_file = _find(path, "train-images-idx3-ubyte"), _find(path, "train-labels-idx1-ubyte")
    elif path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ("x_train", "y_train") if key not in archive.files]
            if missing:
                raise ValueError(f"{path} has no array {' or '.join(missing)} (found {', '.join(archive.files) or 'none'})")
            images, labels = archive["x_train"], archive["y_train"]
        return _checked_mnist(images, labels, path)
    else:
        if "images" not in path.name or "idx3" not in path.name:
            raise ValueError(f"{path} is neither a folder, an .npz archive nor an MNIST images IDX file "
                             "(train-images-idx3-ubyte)")
        images_file = path
        labels_stem = path.name.removesuffix(".gz").replace("images", "labels").replace("idx3", "idx1")
        labels_file = _find(path.parent, labels_stem)
    return _checked_mnist(read_idx(images_file), read_idx(labels_file), path)


def _checked_mnist(images, labels, path):
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(f"{path}: expected images of shape (n, rows, cols) and labels of shape (n,), "
                         f"got {images.shape} and {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{path}: {images.shape[0]} images but {labels.shape[0]} labels")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{path}: the images contain NaN or infinite pixels")
    return images, labels


def load_mnist_pair(path, digits=(0, 1), n_per_class=None, random_state=0):
    """MNIST training images of two digits from a local file or folder (see :func:`read_mnist`).

    Parameters
    ----------
    path : str or Path
        A folder of IDX files, the training-images IDX file or an ``.npz`` archive.
    digits : (int, int)
        ``digits[1]`` gets label +1 (the text lists digit 1 first), ``digits[0]`` gets -1.
    n_per_class : int, optional
        Random subset size per digit (all images if omitted).
    random_state : int, optional

    Returns
    -------
    BinaryImages
    """
    images, labels = read_mnist(path)
    for digit in digits:
        if not np.any(labels == digit):
            raise ValueError(f"{path} has no image of digit {digit}")
    return _select(images, labels, digits, n_per_class, random_state, images.shape[1:], f"MNIST ({Path(path).name})")


def load_digits_pair(digits=(0, 1), n_per_class=None, random_state=0):
    """Offline proxy for MNIST: scikit-learn's bundled 8x8 digits (about 180 images per digit)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _select(
        bunch.images, bunch.target, digits, n_per_class, random_state, (8, 8), "sklearn-digits-8x8 (proxy)"
    )


def toy_separable_2d(n_per_class=10, random_state=0, *, negative_radii=(0.5, 1.5)):
    """Planar data satisfying Assumption 2.2 (for Fig. 2-11; not stated in the dissertation, chosen here).

    Positive points at angles U(-30, 30) degrees with radii U(0.5, 1.5), negative points
    at angles U(150, 210) degrees with radii U(``negative_radii``).

    Parameters
    ----------
    n_per_class : int
    random_state : int or Generator, optional
    negative_radii : (float, float)
        Range of the negative points' radii, 0 < low <= high. Shorter negative points
        make their neurons grow later: the loss then drops twice, once per class.

    Returns
    -------
    X : (2 n_per_class, 2) numpy.ndarray
    y : (2 n_per_class,) numpy.ndarray
    """
    n_per_class = positive_int(n_per_class, "n_per_class")
    low, high = (float(r) for r in negative_radii)
    if not 0 < low <= high < np.inf:
        raise ValueError(f"negative_radii must satisfy 0 < low <= high < inf, got {negative_radii}")
    rng = np.random.default_rng(random_state)
    angles = np.deg2rad(np.concatenate([rng.uniform(-30, 30, n_per_class), rng.uniform(150, 210, n_per_class)]))
    radii = np.concatenate([rng.uniform(0.5, 1.5, n_per_class), rng.uniform(low, high, n_per_class)])
    X = radii[:, None] * np.column_stack([np.cos(angles), np.sin(angles)])
    y = np.concatenate([np.ones(n_per_class), -np.ones(n_per_class)])
    return X, y
