"""
Attrs for JSOC cutout exports, registered with Fido as ``a.jsoc_cutout``.

Combine them with sunpy's ``a.Time``, ``a.Wavelength``, ``a.Sample`` and ``a.jsoc.Series``,
``a.jsoc.Notify``, ``a.jsoc.Segment``, ``a.jsoc.Keyword``, ``a.jsoc.PrimeKey`` and
``a.jsoc.Protocol``. Every query needs one box: `Box` or `ActiveRegion`.

Examples
--------
>>> import astropy.units as u
>>> import sunpy.net.attrs as a
>>> from sunpy_jsoc_cutout import attrs as jc
>>> query = (
...     a.Time("2014-02-05 08:00", "2014-02-05 16:00")
...     & a.jsoc.Series("aia.lev1_euv_12s")
...     & a.Wavelength(171 * u.AA)
...     & jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
...     & jc.Tracking(True)
...     & jc.Register(False)
... )
"""

from ._query.box import ActiveRegion, Box
from ._query.export import ExportProtocol, FilenameFormat, Method, RecordLimit, Requestor
from ._query.options import (
    CoalignedSeries,
    Crop,
    FullHeaders,
    Level1p5,
    Rebin,
    ReferenceTime,
    Register,
    Resize,
    Tracking,
    Wavelengths,
)
from ._query.projection import MapProjection

__all__ = [
    "ActiveRegion",
    "Box",
    "CoalignedSeries",
    "Crop",
    "ExportProtocol",
    "FilenameFormat",
    "FullHeaders",
    "Level1p5",
    "MapProjection",
    "Method",
    "Rebin",
    "RecordLimit",
    "ReferenceTime",
    "Register",
    "Requestor",
    "Resize",
    "Tracking",
    "Wavelengths",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name


def __dir__():
    return __all__
