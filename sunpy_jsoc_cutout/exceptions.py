"""
Exceptions raised by the ``sunpy_jsoc_cutout`` client.

Every exception derives from `JSOCCutoutError`, so ``except JSOCCutoutError`` catches all of
them. Query problems also derive from `ValueError`, which is what code written against sunpy's
own JSOC client expects. Messages say what to change in the query.
"""

__all__ = [
    "CutoutQueryError",
    "JSOCCutoutError",
    "JSOCExportError",
    "MissingNotifyError",
    "UnknownActiveRegionError",
]


class JSOCCutoutError(Exception):
    """
    Base class of every error raised by ``sunpy_jsoc_cutout``.
    """


class CutoutQueryError(JSOCCutoutError, ValueError):
    """
    A query (or one of its attrs) cannot be turned into a valid JSOC export request.

    Raised before anything is sent to JSOC: when an attr is built with a bad value, or when
    the attrs of one query block do not fit together.
    """


class UnknownActiveRegionError(CutoutQueryError):
    """
    A NOAA active region number was not found in the JSOC NOAA series.
    """


class MissingNotifyError(CutoutQueryError):
    """
    An export was asked for without ``a.jsoc.Notify`` (a JSOC-registered e-mail address).
    """


class JSOCExportError(JSOCCutoutError, RuntimeError):
    """
    JSOC refused or failed an export request (reserved for the client's network side).
    """
