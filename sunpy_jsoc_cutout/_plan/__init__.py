"""
Stage 2, the plan: pure functions from a query (and JSOC's metadata replies, passed in) to export
requests. No I/O and no ``conf``.

`series_rules` (what each series allows, and `SeriesInfo`, what ``series_struct`` says it has),
`jsoc_text` (JSOC's time and keyword text formats), `checks` (refusals before anything is sent),
`coords` and `boxgeometry` (where the box is, in each record's pixels), `noaa` (NOAA region
positions), `recordset` (the structured `RecordSet`), `process` (the structured ``process=``
steps), `plans` (one export request per wavelength and piece), `rows` (search rows from listed
keywords), `frames` and `cadence` (which records JSOC will pick and skip), `names` (the file
names JSOC will give), `split` and `limit` (pieces under JSOC's record and size limits).
Record sets and processes are rendered to text only when sent (``ExportPlan.ds``/``process``).
"""
