"""
JSOC's export system without HTTP: the export manager (requests, pending and duplicate tables,
the staging worker, the test controls), the rules of ``exp_request``, staging of export files,
the file store, notification addresses, the clock and the time model.
"""
