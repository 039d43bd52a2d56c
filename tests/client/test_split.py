"""Requests beyond the record limit are split by time; the pieces cover exactly the rows, no more."""

import itertools

import numpy as np
import requests

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.split import (
    MAX_REQUESTS,
    MAX_TAIL,
    MIN_RECORDS,
    MIN_TAIL,
    JobCosts,
    piece_sizes,
    pipeline_requests,
    tail_sizes,
)
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
    assert piece_sizes(10_000, 40, 1e12, 1e6, pieces=1) == 40
    assert piece_sizes(10_000, 15_000, 1e9, 1e6, pieces=1) == 1000  # bytes: 1 GB / 1 MB per record
    assert piece_sizes(10_000, 15_000, 1e12, 1e6, pieces=4) == 2500
    assert piece_sizes(150, 15_000, 1e12, 1e6, pieces=4) == MIN_RECORDS


def test_number_of_requests_balances_hidden_work_against_overhead():
    costs = JobCosts(staging_per_record=1.0, download_rate=5e6, request_overhead=20.0)
    # (S + D) / N + N o is smallest at N = sqrt((S + D) / o)
    assert pipeline_requests(100, 100 * 30e3, costs) == 2  # sqrt(100.6 / 20) = 2.2
    assert pipeline_requests(10, 10 * 30e3, costs) == 1
    # the user's guide campaign: 1920 cutouts of 1 MB: sqrt((1920 + 384) / 20) = 10.7, at most 8
    assert pipeline_requests(1920, 1920 * 1e6, costs, existing=4) == MAX_REQUESTS
    # never fewer than the job already has
    assert pipeline_requests(40, 40 * 30e3, costs, existing=4) == 4


def test_the_last_request_ends_in_pieces_that_shrink_so_that_its_downloads_hide():
    costs = JobCosts(staging_per_record=1.0, download_rate=5e6, request_overhead=20.0)
    sizes = tail_sizes(480, 4e6, costs)  # 480 cutouts of 4 MB: 0.8 s of download, 1 s of staging each
    assert sizes == [161, 143, 95, 56, 25]
    assert sum(sizes) == 480
    assert sizes[-1] * 4e6 / 5e6 <= costs.request_overhead  # the last download lasts about one overhead
    for piece, following in itertools.pairwise(sizes[1:]):  # each downloads while the next one stages
        assert piece * 0.8 <= costs.request_overhead + following * 1.0
    assert len(sizes) <= MAX_TAIL + 1
    assert tail_sizes(480, 1e6, costs) == [380, 100]
    assert tail_sizes(100, 1e4, costs) == [100]  # all of it downloads in less than one overhead
    assert tail_sizes(30, 4e6, costs) == [30]
    assert min(tail_sizes(200, 4e7, costs)) >= MIN_TAIL


def test_a_job_of_large_cutouts_keeps_its_rows_in_a_shrinking_tail(jsoc):
    big = jc.Box.carrington(100 * u.deg, 10 * u.deg, 1000 * u.pix, 1000 * u.pix)
    query = (TWO_HOURS, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), big)
    table = search(*query, limit=15000)
    counts = [int((np.asarray(table["Request"]) == index).sum()) for index in range(len(table.plans))]
    assert len(counts) > 2
    assert counts[1:] == sorted(counts[1:], reverse=True)  # shrinking towards the end
    assert sum(counts) == len(table) == 601
    for plan, rows in zip(table.plans, counts):
        assert server_count(jsoc, plan.ds) == rows  # the server's own count of the piece


def test_slotted_series_pieces_hold_exactly_their_rows(jsoc):
    query = (TWO_HOURS, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), BOX)
    whole = search(*query, limit=15000)
    split = search(*query, limit=40)
    # 601 small cutouts (33 kB): they stage longer than they download, and all of them download in
    # less than one request's overhead, so one request
    assert len(whole.plans) == 1
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


def test_no_record_in_two_pieces_of_a_multi_wavelength_request(jsoc, email, tmp_path):
    # 21 slots of two wavelengths in one request; 9 records a piece would cut slots in two
    query = (
        a.Time("2014-02-05 08:00", "2014-02-05 08:04"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 60 * u.arcsec),
        a.jsoc.Notify(email),
    )
    with conf.set_temp("record_limit_aia", 9):
        result = Fido.search(*query)
    split = result["jsoccutout"]
    assert len(split) == 42
    assert len(split.plans) > 4
    counts = []
    for index, plan in enumerate(split.plans):
        rows = int((np.asarray(split["Request"]) == index).sum())
        counts.append(server_count(jsoc, plan.ds))
        assert counts[-1] == rows  # the server's own count of the piece
        assert rows <= 9
        assert rows % 2 == 0  # whole slots
    assert sum(counts) == len(split)
    files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert not files.errors
    assert len(files) == len(set(map(str, files))) == int((split["Skip"] == "").sum())
