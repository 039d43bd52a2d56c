"""Surface texture of the synthetic Sun, fixed in the Carrington frame.

The texture is a sum of plane waves ``cos(k . P + phase)`` evaluated at the unit vector ``P``
of the surface point in the Carrington frame. A 3-D plane wave restricted to the sphere has no
seam at longitude 0/360 and no singularity at the poles; locally its wavelength is
``lambda / sin(angle(k, normal))``, so most of the power sits at the nominal wavelengths of
2.5-5 AIA pixels (1 AIA pixel ~ 0.6" ~ 435 km at disk centre). Because the pattern depends
only on the Carrington position, a Carrington-tracked, registered cutout sequence sees the same
pattern in every frame, which makes sub-pixel cross-correlation checks possible.

The wave set is closed form (Fibonacci directions over a hemisphere, geometric wavelengths,
golden-ratio phases): no random state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_WAVES", "WAVELENGTHS", "texture", "wave_sums"]

#: Number of plane waves.
N_WAVES = 9
_AIA_PIXEL_RSUN = 435.0 / 696_000.0  # one 0.6" pixel at disk centre, in solar radii
#: Wavelengths of the waves in solar radii (2.5 to 5 AIA pixels).
WAVELENGTHS = _AIA_PIXEL_RSUN * 2.5 * 2.0 ** (np.arange(N_WAVES) / (N_WAVES - 1))
_GOLDEN = (1.0 + 5.0**0.5) / 2.0


def _wave_set() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wave vectors (N, 3), phases (N,) and wavelengths (N,): Fibonacci directions over the
    upper hemisphere."""
    i = np.arange(N_WAVES) + 0.5
    z = 1.0 - i / N_WAVES  # cos(polar angle) in (0, 1): one hemisphere, k and -k are the same wave
    az = 2.0 * np.pi * i / _GOLDEN
    r = np.sqrt(1.0 - z * z)
    # Permute the wavelengths so that neighbouring directions get unlike wavelengths.
    lam = WAVELENGTHS[(np.arange(N_WAVES) * 4) % N_WAVES]
    kvec = (2.0 * np.pi / lam)[:, None] * np.stack([r * np.cos(az), r * np.sin(az), z], axis=1)
    phase = 2.0 * np.pi * ((np.arange(N_WAVES) * _GOLDEN) % 1.0)
    return kvec, phase, lam


_KVEC, _PHASE, _LAMBDA = _wave_set()


def _wave_weights(pixel_size: float) -> np.ndarray:
    """Anti-aliasing weights: waves shorter than ~2 pixels of this image fade out."""
    return np.clip((_LAMBDA / pixel_size - 1.8) / 0.7, 0.0, 1.0)


def texture(xyz: tuple[np.ndarray, np.ndarray, np.ndarray], mu: np.ndarray, pixel_size: float) -> np.ndarray:
    """Evaluate the texture.

    Parameters
    ----------
    xyz : tuple of numpy.ndarray
        Carrington-frame unit vector of each surface point.
    mu : numpy.ndarray
        Cosine of the viewing angle; the texture fades towards the limb (``mu < 0.3``) where
        foreshortening would push it below two pixels.
    pixel_size : float
        Pixel size at Sun centre in solar radii (waves shorter than about 2 pixels are dropped).

    Returns
    -------
    numpy.ndarray
        float32 values of zero mean and amplitude at most 1.
    """
    weights = _wave_weights(pixel_size)
    (total,) = wave_sums(xyz, _KVEC, _PHASE, (weights / N_WAVES)[None, :])
    total *= np.clip(np.asarray(mu, dtype=np.float32) / np.float32(0.3), 0.0, 1.0)
    return total


def wave_sums(
    xyz: tuple[np.ndarray, ...], kvec: np.ndarray, phases: np.ndarray, coefficients: np.ndarray
) -> list[np.ndarray]:
    """Sums ``sum_i coefficients[j, i] * cos(kvec[i] . P + phases[i])``, one per row ``j``.

    Each cosine is evaluated once (float32) and added to every sum; waves whose coefficients
    are all zero are skipped.
    """
    x, y, z = (np.asarray(c, dtype=np.float32) for c in xyz)
    coefficients = np.asarray(coefficients, dtype=np.float32)
    totals = [np.zeros(x.shape, dtype=np.float32) for _ in coefficients]
    phase = np.empty(x.shape, dtype=np.float32)
    for i, (k, ph0) in enumerate(zip(kvec.astype(np.float32), phases.astype(np.float32), strict=True)):
        if not coefficients[:, i].any():
            continue
        np.multiply(x, k[0], out=phase)
        phase += k[1] * y
        phase += k[2] * z
        phase += ph0
        np.cos(phase, out=phase)
        for total, coeff in zip(totals, coefficients[:, i], strict=True):
            total += coeff * phase
    return totals
