"""
Stage 2, the plan: pure functions from a query (and JSOC's metadata replies, passed in) to export
requests. No I/O and no ``conf``.

`series_rules` (what each series allows), `checks` (refusals before anything is sent), `coords`
and `boxgeometry` (where the box is, in each record's pixels), `noaa` (NOAA region positions),
`recordset` (record-set text), `process` (the ``process=`` steps), `plans` (one export request
per wavelength and piece), `frames` (which records JSOC will pick and skip), `names` (the file
names JSOC will give), `split` and `limit` (pieces under JSOC's record and size limits).
"""
