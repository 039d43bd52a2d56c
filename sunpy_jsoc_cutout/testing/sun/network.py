"""The quiet-Sun network of the synthetic Sun, fixed in the Carrington frame.

Three band-limited random fields are sums of plane waves ``cos(k . P + phase)`` evaluated at
the Carrington-frame unit vector ``P`` of each surface point (as in :mod:`.texture`: no seam,
no pole singularity, no random state). Their wave vectors come from a generator seeded with a
fixed constant, so the Sun is the same in every process and every image:

* two uncorrelated *cell* fields ``f1``, ``f2`` (wavelengths 40-65 Mm; the same waves summed
  with two orthogonal sign patterns): the union of their zero sets is a web of closed cells
  about 25-35 Mm across, the supergranular network. The lanes are the ridges
  ``exp(-f**2 / 2 w**2)`` with ``w = 0.25``, about 4 Mm (5") wide;
* two *fragment* fields (wavelengths 7-16 Mm): one breaks the lanes into brighter and fainter
  stretches, the sign of the other gives the mixed polarities of the network field in
  magnetograms;
* a *large-scale* field (wavelengths 150-300 Mm): enhanced and quiet network patches.

Sizes are on the Sun, not in pixels, so every image size shows the same network; what a pixel
cannot resolve is averaged, not aliased: waves shorter than 2.5-4 pixels fade out, and the
ridge is widened by the spread of ``f`` across a pixel (the exact pixel average of a Gaussian
ridge of a locally linear field), which keeps the mean brightness of a patch independent of
the image size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .texture import wave_sums

__all__ = ["FINEST_WAVELENGTH", "NetworkFields", "network"]

_MM = 1.0 / 696.0  # one megametre in solar radii
_RIDGE = 0.25  # ridge half-width in units of the cell field's standard deviation
_SEED = 0x5EED_2014  # fixed: the network is the same on every run


def _waves(n: int, lam_min: float, lam_max: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` wave vectors (rows) with isotropic directions and wavelengths in ``[lam_min, lam_max]``
    (solar radii), and their phases."""
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    lam = lam_min * (lam_max / lam_min) ** rng.uniform(size=n)
    return (2.0 * np.pi / lam)[:, None] * direction, rng.uniform(0.0, 2.0 * np.pi, size=n)


def _wave_sets() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    rng = np.random.default_rng(_SEED)
    return (
        _waves(12, 40.0 * _MM, 65.0 * _MM, rng),  # cells
        _waves(12, 7.0 * _MM, 16.0 * _MM, rng),  # fragments
        _waves(4, 150.0 * _MM, 300.0 * _MM, rng),  # large-scale patches
    )


def _hadamard(n: int) -> np.ndarray:
    """Rows of +-1 that are mutually orthogonal: sums of the same waves with two different rows
    are uncorrelated fields of the same spectrum."""
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h[:, :n]


_CELLS, _FRAGMENTS, _PATCHES = _wave_sets()
#: The shortest wavelength of the network's waves (solar radii).
FINEST_WAVELENGTH = float(min(2.0 * np.pi / np.linalg.norm(k, axis=1).max() for k, _ in (_CELLS, _FRAGMENTS, _PATCHES)))
_SIGNS = _hadamard(16)[[1, 6]]  # two orthogonal rows (neither is all ones)
# rms gradient of a unit-variance cell field along the surface (2 of the 3 components)
_CELL_GRADIENT = float(np.sqrt(np.mean(np.sum(_CELLS[0] ** 2, axis=1)) * 2.0 / 3.0))


class NetworkFields(NamedTuple):
    """The network at a set of surface points (float32 arrays of the points' shape).

    Attributes
    ----------
    brightness : numpy.ndarray
        Network emission, 0 in cell interiors to about 1.5 on bright network (mean about 0.4).
    polarity : numpy.ndarray
        Signed fraction (-1 to 1) of the network field's polarity (zero-mean).
    """

    brightness: np.ndarray
    polarity: np.ndarray


def _fields(
    xyz: tuple[np.ndarray, ...], waves: tuple[np.ndarray, np.ndarray], signs: np.ndarray, pixel_size: float
) -> list[np.ndarray]:
    """Unit-variance sums of the waves, one per row of ``signs``; waves fade out between 4 and
    2.5 pixels (anti-aliasing with a margin: resampled images must not alias them either)."""
    kvec, phases = waves
    lam = 2.0 * np.pi / np.linalg.norm(kvec, axis=1)
    weights = np.clip((lam / pixel_size - 2.5) / 1.5, 0.0, 1.0) * np.sqrt(2.0 / len(phases))
    return wave_sums(xyz, kvec, phases, signs[:, : len(phases)] * weights[None, :])


def _ridge(field: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``exp(-field**2 / 2 w**2)`` averaged over a pixel across which ``field`` spreads by ``spread``."""
    width2 = np.float32(_RIDGE * _RIDGE) + spread * spread
    out = field * field
    out /= width2
    out *= np.float32(-0.5)
    np.exp(out, out=out)
    out *= np.float32(_RIDGE) / np.sqrt(width2)
    return out


def network(xyz: tuple[np.ndarray, np.ndarray, np.ndarray], mu: np.ndarray, pixel_size: float) -> NetworkFields:
    """Evaluate the network.

    Parameters
    ----------
    xyz : tuple of numpy.ndarray
        Carrington-frame unit vector of each surface point.
    mu : numpy.ndarray
        Cosine of the viewing angle: a pixel covers ``1/mu`` more surface towards the limb, so
        the ridge is widened accordingly.
    pixel_size : float
        Pixel size at Sun centre in solar radii.

    Returns
    -------
    NetworkFields
    """
    pts = tuple(np.asarray(c, dtype=np.float32) for c in xyz)
    cell_a, cell_b = _fields(pts, _CELLS, _SIGNS, pixel_size)
    bright, polarity = _fields(pts, _FRAGMENTS, _SIGNS, pixel_size)
    (patches,) = _fields(pts, _PATCHES, _SIGNS[:1], pixel_size)
    # spread of a cell field across a (foreshortened) pixel, as a standard deviation
    foreshortening = 1.0 / np.sqrt(np.clip(np.asarray(mu, dtype=np.float32), 0.05, 1.0))
    spread = np.float32(_CELL_GRADIENT * pixel_size / np.sqrt(12.0)) * foreshortening
    # the union of the zero sets of two uncorrelated fields: closed cells, not a labyrinth
    lanes = np.float32(1.0) - (np.float32(1.0) - _ridge(cell_a, spread)) * (np.float32(1.0) - _ridge(cell_b, spread))
    np.clip(bright, np.float32(-1.5), np.float32(2.5), out=bright)
    brightness = lanes * (np.float32(0.7) + np.float32(0.3) * bright) * (np.float32(1.0) + np.float32(0.3) * patches)
    np.maximum(brightness, np.float32(0.0), out=brightness)
    np.tanh(np.float32(1.5) * polarity, out=polarity)
    return NetworkFields(brightness, polarity)
