"""
The emulated DRMS data side: series definitions and keyword tables, record generators, keyword
values, record sets and their specifications, storage units on tape, export file names and the
``jsoc_info``/``show_series`` replies.
"""
