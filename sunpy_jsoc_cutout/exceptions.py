"""
Exceptions raised by the ``sunpy_jsoc_cutout`` client.

Every exception derives from `JSOCCutoutError`, so ``except JSOCCutoutError`` catches all of
them. Query problems also derive from `ValueError`, which is what code written against sunpy's
own JSOC client expects. Messages say what to change in the query.
"""

__all__ = [
    "ConfigurationError",
    "CutoutQueryError",
    "DiskSpaceError",
    "ExportMismatchError",
    "ExportTimeoutError",
    "JSOCCutoutError",
    "JSOCExportError",
    "JSOCHTTPError",
    "MissingNotifyError",
    "PathTemplateError",
    "PendingExportError",
    "UnknownActiveRegionError",
    "UnsafeArchiveError",
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


class JSOCHTTPError(JSOCExportError):
    """
    A JSOC CGI call failed at the HTTP level: no connection, a timeout, an HTTP error status or
    a reply that is not JSON.

    Attributes
    ----------
    url : str
        The URL that was called (without its query).
    status_code : int or None
        The HTTP status, if a reply arrived.
    """

    def __init__(self, message: str, url: str = "", status_code: int | None = None):
        super().__init__(message)
        self.url = url
        self.status_code = status_code


class ExportTimeoutError(JSOCExportError):
    """
    An export did not complete within the time allowed; the request may still complete at JSOC.
    """


class ExportMismatchError(JSOCExportError):
    """
    JSOC's reply for a request is not the export that was planned: its request ID belongs to
    another plan, its records are not the planned ones, or it completed without any file. Its
    files are not accepted and the request is never recorded as complete.
    """


class PendingExportError(JSOCExportError):
    """
    JSOC refused a new export because the notification address already has a pending one
    (JSOC status 7), and it could not be waited out or cancelled.
    """


class UnsafeArchiveError(JSOCCutoutError, ValueError):
    """
    A downloaded tar file holds a member that could write outside its destination (an absolute
    path, a ``..`` component, a symbolic or hard link, a device or pipe); nothing was extracted.
    """


class DiskSpaceError(JSOCCutoutError, OSError):
    """
    The download directory lacks the free space an export needs.

    Attributes
    ----------
    needed : int
        Bytes needed.
    free : int
        Bytes free on the file system.
    """

    def __init__(self, message: str, needed: int = 0, free: int = 0):
        super().__init__(message)
        self.needed = needed
        self.free = free


class PathTemplateError(JSOCCutoutError, ValueError):
    """
    A download ``path`` template names a key the search result does not have, or is malformed.
    """


class ConfigurationError(JSOCCutoutError, ValueError):
    """
    A ``sunpy_jsoc_cutout.config.conf`` setting has a value the client cannot work with; the
    message names the setting and the values allowed.
    """
