"""
Stage 1, the query: what the user asked for.

The ``a.jsoc_cutout`` attrs (`box`: the cutout box and the NOAA region; `options`: tracking,
registration, crop and the other ``im_patch`` options; `export`: method, protocol, filename and
request options) and the `walker` that turns a Fido query into one frozen
`~sunpy_jsoc_cutout._query.query.CutoutQuery` per OR-block (the contract the later stages read).
Imports only ``exceptions``, constants of ``config`` (the NOAA series names, never ``conf``) and
sunpy/astropy.
"""
