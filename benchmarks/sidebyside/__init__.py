"""
Side-by-side benchmarks of sunpy_jsoc_cutout, sunpy's stock ``JSOCClient`` and drms by hand
(issue #14), with the JSOC emulator in its own process and each client in a child process.

Modules: `emulator` (the emulator process and its control API), `child` (run one client task in
a child process and read its figures), `clients` (the client tasks themselves, run in the
child), `queries` (the workloads' queries), `figures` (pure arithmetic on the emulator's log
and state: calls by endpoint, staging, the time model's lower bound), `report` (JSON, markdown,
the docs' CSV table and plot). ``benchmarks/run_all.py`` runs them all.
"""
