"""
sunpy_jsoc_cutout
=================

A SunPy Fido plugin for JSOC cutouts (``im_patch``), and an offline emulator of JSOC's HTTP
export API for testing.

* :mod:`sunpy_jsoc_cutout.testing` is the offline JSOC emulator: an independent implementation
  of ``jsoc_info``, ``jsoc_fetch`` and the file server on ``127.0.0.1``, usable by ``drms``,
  ``parfive`` and sunpy's ``Fido``.
* :mod:`sunpy_jsoc_cutout.demo` runs an end-to-end export against the emulator
  (``python -m sunpy_jsoc_cutout.demo``).

The Fido client (``a.jsoc_cutout`` attrs and ``JSOCCutoutClient``) is being built in the next
milestones.
"""

from .version import version as __version__

# The Fido client will be imported here once it exists, so that importing the package
# registers it with Fido:
# from .client import JSOCCutoutClient

__all__ = ["__version__"]
