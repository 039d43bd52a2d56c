"""
Stage 4, transfer: running the planned exports and bringing their files home, resumably.

`scheduler` (one pending export at a time, polite polling) with `progress`; `ledger` (with
`ledger_schema` and `ledger_claims`: what was asked, staged and downloaded, shared by processes);
`deliver` (from a completed export to files), `download` and `tar_download` (parfive, one
connection, retries), `session`, `writer` (partial names, write failures), `verify` (FITS and tar
checks), `file_moves` (partial to final names), `tarsafe`, `paths` (path templates),
`interrupt` (Ctrl-C and SIGTERM) and `report` (the job report).
"""
