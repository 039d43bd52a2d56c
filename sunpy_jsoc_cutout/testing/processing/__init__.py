"""
JSOC's processing steps: the ``process`` grammar and step registry, ``im_patch`` (arguments,
frame selection, box geometry, tracking, extraction), ``rebin``, ``aia_scale_*``/``resize``,
resampling and the ``jpg``/``mpg``/``mp4`` image protocols.
"""
