"""
Stage 3, JSOC's HTTP API: the only code that talks to JSOC's CGI programs.

`info` (``jsoc_info``: series structure, record lists, counts), `export` (``jsoc_fetch``
``exp_request``/``exp_status`` and ``manage-request``), `export_files` (reading an export's
``index.json`` into file URLs and records).
"""
