"""
The synthetic Sun: solar geometry, surface texture, NOAA active regions and their features, the
closed-form renderer, SDO's ephemeris, and FITS files with JSOC's checksums.
"""
