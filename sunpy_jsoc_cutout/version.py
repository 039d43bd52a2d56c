"""
The package version.

``_version.py`` is written by setuptools_scm when the package is built or installed (it is
not tracked by git). A source tree that was never installed falls back to the installed
distribution's metadata, and finally to ``0.0.0`` with a warning, which signals a broken
installation.
"""

__all__ = ["bugfix", "major", "minor", "release", "version"]

try:
    from ._version import version
except ImportError:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _distribution_version

    try:
        version = _distribution_version("sunpy-jsoc-cutout")
    except PackageNotFoundError:
        from sunpy.util.exceptions import warn_user

        warn_user(
            "Could not determine the sunpy_jsoc_cutout version; this indicates a broken installation. "
            "Install the package (for example with 'pip install -e .') to fix it."
        )
        version = "0.0.0"

from packaging.version import parse as _parse

_version = _parse(version)
major, minor, bugfix = [*_version.release, 0, 0][:3]
release = not _version.is_devrelease
