"""
Export-option attrs (method, protocol, file names, record limit, requestor); re-exported by
`sunpy_jsoc_cutout.attrs`.
"""

from sunpy.net.attr import DataAttr, SimpleAttr

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .options import _no_illegal_text

__all__ = ["AS_IS_REFUSED", "ExportProtocol", "FilenameFormat", "Method", "RecordLimit", "Requestor"]

#: Why the client does not send ``protocol=as-is``. JSOC exports a processed request from the
#: output records of its last step (lm-jps/drms 3727293, ``base/export/apps/jsoc_export_manage.c``:
#: the protocol step runs on ``exprecspec``, the last step's output, L4224, L4515, L4602-4607), and
#: ``as-is`` runs ``jsoc_export_as_is``, which links the stored segment files, with the keywords
#: written separately by ``show_info -ait ... > <requestid>.keywords.txt`` (``GenProtoExpCmd``,
#: L3422-3434; the export page's protocol tip says the same, lm-jps/proj
#: ``export/webapps/exportdata.html``). DRMS stores a segment file without the record's keywords
#: (``im_patch`` writes them into the file only with ``h=1``, which JSOC's ``jsoc.export_procs``
#: table need not pass on), so the cutouts would arrive without WCS, time or wavelength and
#: ``sunpy.map.Map`` could not open them as maps. The emulator serves as-is the same way.
AS_IS_REFUSED = (
    "The protocol 'as-is' is not offered: JSOC's as-is export delivers im_patch's stored files without "
    "the record keywords (no WCS, time or wavelength; JSOC writes them to a separate "
    "<requestid>.keywords.txt), so sunpy.map.Map cannot open the cutouts as maps, and it saves little "
    "since im_patch writes new files anyway. Use the protocol 'fits' (the default): the same cutouts "
    "with full headers."
)


class Method(SimpleAttr):
    """
    The export method: ``"url"`` (default; one file per record) or ``"url-tar"`` (one tar file).

    ``url_quick`` cannot carry processing, and JSOC no longer offers FTP.
    """

    def __init__(self, value: str):
        name = str(value).lower().replace("_", "-")
        if name == "url-quick":
            msg = "url_quick exports cannot carry processing such as im_patch; use Method('url') or Method('url-tar')."
            raise CutoutQueryError(msg)
        if name not in ("url", "url-tar"):
            msg = f"The export method must be 'url' or 'url-tar'; got {value!r} (JSOC no longer serves FTP)."
            raise CutoutQueryError(msg)
        super().__init__(name)


_SCALINGS = ("MINMAX", "LOG", "SQRT", "MINMAXGIVEN", "mag")


class ExportProtocol(DataAttr):
    """
    The export protocol: ``"fits"`` (default), ``"jpg"``, ``"mpg"`` or ``"mp4"``, with the
    image options of the JSOC export page.

    ``"as-is"`` is refused (`AS_IS_REFUSED` says why): JSOC's as-is files of a cutout carry no
    record keywords, so they do not open as maps.

    Parameters
    ----------
    name : str
        Protocol name (any case).
    color_table : str, optional
        Image protocols: JSOC colour table (default ``"grey.sao"``).
    scaling : str, optional
        Image protocols: one of ``MINMAX`` (default), ``LOG``, ``SQRT``, ``MINMAXGIVEN``, ``mag``.
    size : int, optional
        Image protocols: binning factor (default 1).
    min, max : float, optional
        Image protocols: display range.

    Examples
    --------
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.ExportProtocol("jpg", scaling="LOG").jsoc_string
    'jpg,CT=grey.sao,scaling=LOG,size=1'
    """

    def __init__(
        self,
        name: str,
        *,
        color_table: str | None = None,
        scaling: str | None = None,
        size: int | None = None,
        min: float | None = None,  # noqa: A002
        max: float | None = None,  # noqa: A002
    ):
        super().__init__()
        self.name = str(name).lower()
        if self.name in ("as-is", "su-as-is"):
            raise CutoutQueryError(AS_IS_REFUSED)
        if self.name not in ("fits", "jpg", "mpg", "mp4"):
            msg = f"The protocol must be one of fits, jpg, mpg, mp4; got {name!r}."
            raise CutoutQueryError(msg)
        options = {"CT": color_table, "scaling": scaling, "size": size, "min": min, "max": max}
        given = [k for k, v in options.items() if v is not None]
        if given and not self.is_image:
            msg = f"Image options ({', '.join(given)}) only apply to jpg, mpg and mp4, not {self.name}."
            raise CutoutQueryError(msg)
        if scaling is not None and scaling not in _SCALINGS:
            msg = f"scaling must be one of {', '.join(_SCALINGS)}; got {scaling!r}."
            raise CutoutQueryError(msg)
        if size is not None and (not isinstance(size, int) or size < 1):
            msg = f"size is an integer binning factor of at least 1; got {size!r}."
            raise CutoutQueryError(msg)
        self.options = options

    @property
    def is_image(self) -> bool:
        """Whether the protocol makes images or movies."""
        return self.name in ("jpg", "mpg", "mp4")

    @property
    def jsoc_string(self) -> str:
        """The ``protocol`` value sent to JSOC (drms's format for image protocols)."""
        if not self.is_image:
            return self.name
        opts = self.options
        text = (
            f"{self.name},CT={opts['CT'] or 'grey.sao'},scaling={opts['scaling'] or 'MINMAX'},size={opts['size'] or 1}"
        )
        for key in ("min", "max"):
            if opts[key] is not None:
                text += f",{key}={opts[key]:g}"
        return text

    def collides(self, other) -> bool:
        return isinstance(other, ExportProtocol)


class FilenameFormat(SimpleAttr):
    """
    JSOC's file-name template (``filenamefmt``), e.g. ``"{seriesname}.{T_REC:A}.{WAVELNTH}.{segment}"``.

    The default, chosen per series, includes the time and the wavelength (or camera) so that
    names never collide.
    """

    def __init__(self, value: str):
        _no_illegal_text(value, "filename format")
        depth = 0
        for char in value:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth not in (0, 1):
                break
        if depth != 0 or "{" not in value:
            msg = f"The filename format {value!r} needs balanced {{KEYWORD}} fields, e.g. '{{T_REC:A}}.{{segment}}'."
            raise CutoutQueryError(msg)
        if len(value) > 128:
            msg = "JSOC limits expanded filename templates to 128 characters; shorten the format."
            raise CutoutQueryError(msg)
        super().__init__(value)


class RecordLimit(SimpleAttr):
    """Export at most ``n`` records (the first ``n``; negative ``n`` takes the last ``|n|``)."""

    def __init__(self, value: int):
        if isinstance(value, bool) or not isinstance(value, int) or value == 0:
            msg = f"RecordLimit takes a non-zero integer (negative counts from the end); got {value!r}."
            raise CutoutQueryError(msg)
        super().__init__(value)


class Requestor(SimpleAttr):
    """An identifier for you, sent as JSOC's ``requestor`` (optional)."""

    def __init__(self, value: str):
        super().__init__(_no_illegal_text(value, "requestor"))
