"""
sunpy_jsoc_cutout
=================

A SunPy Fido plugin for JSOC cutouts (``im_patch``), and an offline emulator of JSOC's HTTP
export API for testing.

``import sunpy_jsoc_cutout`` registers `~sunpy_jsoc_cutout.client.JSOCCutoutClient` with Fido
and its attrs as ``sunpy.net.attrs.jsoc_cutout``.

* :mod:`sunpy_jsoc_cutout.testing` is the offline JSOC emulator: an independent implementation
  of ``jsoc_info``, ``jsoc_fetch`` and the file server on ``127.0.0.1``, usable by ``drms``,
  ``parfive`` and sunpy's ``Fido``.
* ``sunpy_jsoc_cutout.load`` opens fetched cutouts as time-ordered `~sunpy.map.MapSequence`
  objects, one per series and wavelength (:mod:`sunpy_jsoc_cutout.loaders`).
* :mod:`sunpy_jsoc_cutout.demo` runs an end-to-end export against the emulator
  (``python -m sunpy_jsoc_cutout.demo``).
"""

from .version import version as __version__

# Importing the client registers it (and a.jsoc_cutout) with Fido.
from .client import JSOCCutoutClient
from .loaders import load, to_ndcube

__all__ = ["JSOCCutoutClient", "__version__", "load", "to_ndcube"]
