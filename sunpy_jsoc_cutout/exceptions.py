"""
Exceptions raised by the ``sunpy_jsoc_cutout`` client.

Every exception derives from `JSOCCutoutError`, so ``except JSOCCutoutError`` catches all of
them. Query problems also derive from `ValueError`, which is what code written against sunpy's
own JSOC client expects. Messages say what to change in the query.
"""

__all__ = [
    "ConfigurationError",
    "CorruptFileError",
    "CutoutQueryError",
    "DiskSpaceError",
    "DownloadWriteError",
    "ExportMismatchError",
    "ExportTimeoutError",
    "FileOverwriteError",
    "JSOCCutoutError",
    "JSOCExportError",
    "JSOCHTTPError",
    "JSOCInfoError",
    "LedgerError",
    "LoadError",
    "MissingNotifyError",
    "PathCollisionError",
    "PathTemplateError",
    "PendingExportError",
    "SeriesNotFoundError",
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


class JSOCInfoError(JSOCCutoutError, RuntimeError):
    """
    JSOC's ``jsoc_info`` refused a metadata request of a search, or could not be reached.
    """


class SeriesNotFoundError(JSOCInfoError):
    """
    ``jsoc_info`` does not know the series (``"series not found"``, status 1: ``jsoc_info.c``
    L2214, L2381, L2740, L2766 in lm-jps/drms).
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

    Raised before downloading when the free space is below the export's size estimate, and kept
    as the exception of a download's error entry when the disk fills up during the download
    (``ENOSPC``, a quota or a file-size limit; `errno` is then the system's error number). The
    files finished before are kept and recorded; the partial file is removed.

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


class PathCollisionError(PathTemplateError):
    """
    Different files of one ``Fido.fetch`` (the rows of several search results, or of an OR
    query's blocks) would be written to the same path, so one would overwrite the other.

    Raised before any export is submitted; the message names the colliding rows and what to
    change (a ``path`` template with a field that tells them apart, or a folder per result).
    """


class FileOverwriteError(JSOCCutoutError, FileExistsError):
    """
    A downloaded file was not moved to its path because the file already there holds another
    record's data, or the same record processed differently (the ledger's entry of that file, or
    its FITS header, says so).

    It is the exception of the refused file's error entry; the file already there is left intact.
    The message names both records and what to do (another ``path`` template or folder).

    Attributes
    ----------
    path : str
        The path that was not overwritten.
    """

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


class ConfigurationError(JSOCCutoutError, ValueError):
    """
    A ``sunpy_jsoc_cutout.config.conf`` setting has a value the client cannot work with; the
    message names the setting and the values allowed.
    """


class LedgerError(JSOCCutoutError, OSError):
    """
    The request ledger cannot be opened: its path is a folder, a device or a file that is not
    a ledger, or its folder cannot be made or written. The message names the path and what to
    change (``conf.ledger`` or the ``ledger`` argument).
    """


class DownloadWriteError(JSOCCutoutError, OSError):
    """
    A downloaded file could not be written: its folder is read-only, was removed or replaced by a
    file, or is not the current user's to write.

    It is the exception of that file's error entry (the other files of the fetch go on); the
    partial file is removed and nothing is recorded as done. `errno` is the system's error number.
    """


class CorruptFileError(JSOCCutoutError, ValueError):
    """
    A downloaded file failed verification twice: a FITS ``CHECKSUM`` or ``DATASUM`` that does not
    match, a FITS structure that does not fill the file, or a tar file whose structure is broken
    or that lacks files JSOC listed. It is the exception of the file's error entry; the file is
    never kept under its final name.
    """


class LoadError(JSOCCutoutError, ValueError):
    """
    Files given to `sunpy_jsoc_cutout.loaders.load` cannot be opened as time sequences of maps: there is
    none, one is missing or is not a FITS map (e.g. an ``as-is`` export without keywords), or
    the cutouts of one series and wavelength differ in shape. The message says what to do.
    """
