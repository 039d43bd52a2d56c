"""Requests beyond the record limit are split by time; the pieces cover exactly the rows, no more."""

import numpy as np
import requests

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._split import MIN_RECORDS, piece_sizes
from sunpy_jsoc_cutout.config import conf

BOX = jc.Box.carrington(100 * u.deg, 10 * u.deg, 50 * u.pix, 50 * u.pix)
TWO_HOURS = a.Time("2014-02-05 08:00", "2014-02-05 10:00")


def server_count(emulator, ds):
    reply = requests.get(emulator.url + "cgi-bin/ajax/jsoc_info", params={"op": "rs_summary", "ds": ds}, timeout=30)
    return reply.json()["count"]


def search(*query, limit):
    with conf.set_temp("record_limit_aia", limit):
        return Fido.search(*query)["jsoccutout"]


def test_piece_sizes_respect_both_limits():
    assert piece_sizes(10_000, 40, 1e12, 1e6) == 40
    assert piece_sizes(10_000, 15_000, 1e9, 1e6) == 1000  # bytes: 1 GB / 1 MB per record
    assert piece_sizes(10_000, 15_000, 1e12, 1e6) == 2500  # about four requests
    assert piece_sizes(500, 15_000, 1e12, 1e6) == MIN_RECORDS


def test_slotted_series_pieces_hold_exactly_their_rows(jsoc):
    query = (TWO_HOURS, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), BOX)
    whole = search(*query, limit=15000)
    split = search(*query, limit=40)
    # 601 records: pieces of MIN_RECORDS (300) so that downloads overlap staging
    assert len(whole.plans) == 3
    assert len(split.plans) == 16  # 601 records, 40 per request
    assert np.array_equal(np.asarray(split["recnum"]), np.asarray(whole["recnum"]))
    for index, plan in enumerate(split.plans):
        rows = int((np.asarray(split["Request"]) == index).sum())
        assert rows <= 40
        assert server_count(jsoc, plan.ds) == rows  # the server's own count of the piece


def test_cadence_pieces_keep_the_grid(jsoc):
    query = (TWO_HOURS, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), BOX, a.Sample(60 * u.s))
    whole = search(*query, limit=15000)
    split = search(*query, limit=40)
    assert len(split.plans) == 4
    assert np.array_equal(np.asarray(split["recnum"]), np.asarray(whole["recnum"]))
    for index, plan in enumerate(split.plans):
        assert "@60s" in plan.ds
        assert server_count(jsoc, plan.ds) == int((np.asarray(split["Request"]) == index).sum())


def test_lev1_cadence_pieces_end_before_the_next_piece(jsoc):
    query = (TWO_HOURS, a.jsoc.Series("aia.lev1"), a.Wavelength(171 * u.AA), BOX, a.Sample(60 * u.s))
    whole = search(*query, limit=15000)
    split = search(*query, limit=40)
    assert len(split.plans) == 3
    assert np.array_equal(np.asarray(split["recnum"]), np.asarray(whole["recnum"]))
    assert all(",cadence=60s," in plan.process for plan in split.plans)
