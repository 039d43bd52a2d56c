"""
Different exports never silently overwrite each other's files (against the emulator).

(a) Within one ``Fido.fetch`` (several search results, or the blocks of an OR query), files of
different records or processing that would take one path are refused before any export is sent.
(b) Across fetches, a file is never moved over a file another fetch delivered for another record
(or the same record processed differently): it becomes an error entry with
``FileOverwriteError`` and the earlier file stays; the same record delivered again is accepted.
"""

import shutil
from pathlib import Path

import pytest

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido
from sunpy.util.parfive_helpers import Downloader

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._jsoc.export_files import file_hash
from sunpy_jsoc_cutout._transfer.ledger import Ledger
from sunpy_jsoc_cutout.config import conf
from sunpy_jsoc_cutout.exceptions import FileOverwriteError, PathCollisionError

TIME = a.Time("2014-02-05 08:00", "2014-02-05 08:00:30")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
EAST = jc.Box([-300, -100] * u.arcsec, 200 * u.arcsec)
WEST = jc.Box([300, 100] * u.arcsec, 200 * u.arcsec)
#: A file name without the wavelength: the 171 and 193 cutouts of one time share it.
NO_WAVE = jc.FilenameFormat("{T_REC:A}.{segment}")


def _search(email, *attrs, wave=171):
    return Fido.search(TIME, EUV, a.Wavelength(wave * u.AA), jc.RecordLimit(1), a.jsoc.Notify(email), *attrs)


def _exp_requests(emulator):
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def _overwrite_errors(files):
    return [e for e in files.errors if isinstance(e.exception, FileOverwriteError)]


# ---------------------------------------------------------------- (a) one Fido.fetch


def test_two_results_with_one_path_are_refused_before_any_export(jsoc, email, tmp_path):
    east, west = _search(email, EAST), _search(email, WEST)
    with pytest.raises(PathCollisionError) as info:
        Fido.fetch(east, west, path=tmp_path / "out" / "{file}")
    message = str(info.value)
    assert "search result 1 and aia.lev1_euv_12s[2014-02-05T08:00:01.000][171] of search result 2" in message
    assert "aia.lev1_euv_12s.2014-02-05T080001Z.171.image.fits" in message
    assert "different processing" in message
    assert "its own folder" in message
    assert _exp_requests(jsoc) == []
    assert not list((tmp_path / "out").glob("*.fits"))


def test_refused_fetch_leaves_nothing_on_a_downloader_of_ones_own(jsoc, email, tmp_path):
    downloader = Downloader(progress=False)
    east, west = _search(email, EAST), _search(email, WEST)
    with pytest.raises(PathCollisionError):
        Fido.fetch(east, west, path=tmp_path / "{file}", downloader=downloader)
    assert len(downloader.download()) == 0  # the first block, kept before the refusal, is dropped
    assert _exp_requests(jsoc) == []
    files = Fido.fetch(east, path=tmp_path / "{file}", downloader=downloader)  # the same downloader again
    assert len(files) == 1
    assert not files.errors


def test_or_query_blocks_with_one_path_are_refused(jsoc, email, tmp_path):
    result = _search(email, EAST | WEST)
    assert len(result) == 2  # Fido searches each block of the OR on its own
    with pytest.raises(PathCollisionError, match=r"search result 1 and .* of search result 2"):
        Fido.fetch(result, path=tmp_path / "{file}")
    assert _exp_requests(jsoc) == []


def test_map_projections_of_one_record_are_refused(jsoc, email, tmp_path):
    maps = [jc.MapProjection(name, (66, -12), 0.5, 16) for name in ("Postel", "orthographic", "cyleqa")]
    result = _search(email, EAST, maps[0] | maps[1] | maps[2])
    assert len(result) == 3
    # refused as soon as Fido hands over the second block (the first was kept, not staged)
    with pytest.raises(PathCollisionError, match=r"2 different files to 1 path.* result 1 and .* result 2"):
        Fido.fetch(result, path=tmp_path / "{file}")
    assert _exp_requests(jsoc) == []


def test_template_field_that_tells_records_apart_is_advised_and_works(jsoc, email, tmp_path):
    r171, r193 = _search(email, EAST, NO_WAVE), _search(email, EAST, NO_WAVE, wave=193)
    with pytest.raises(PathCollisionError, match=r"\[171\] of search result 1 and .*\[193\].*\{wavelength\}"):
        Fido.fetch(r171, r193, path=tmp_path / "{file}")
    assert _exp_requests(jsoc) == []
    files = Fido.fetch(r171, r193, path=tmp_path / "{wavelength}" / "{file}")
    assert not files.errors
    assert sorted(p.parent.name for p in map(tmp_path.joinpath, files)) == ["171", "193"]
    assert len(_exp_requests(jsoc)) == 2


def test_same_result_twice_is_no_collision(jsoc, email, tmp_path):
    result = _search(email, EAST)
    files = Fido.fetch(result, result, path=tmp_path / "{file}")
    assert not files.errors
    assert len(set(files)) == 1
    assert len(_exp_requests(jsoc)) == 1


# ---------------------------------------------------------------- (b) across fetches


def _fetch_one(result, path):
    files = Fido.fetch(result, path=path)
    return files, result["jsoccutout"].client.last_report


def test_later_fetch_of_other_processing_keeps_the_earlier_file(jsoc, email, tmp_path):
    path = tmp_path / "{file}"
    (first,), _ = _fetch_one(_search(email, EAST), path)
    before = file_hash(first)
    files, report = _fetch_one(_search(email, WEST), path)
    assert list(files) == []
    (error,) = _overwrite_errors(files)
    message = str(error.exception)
    requests = [r.requestid for r in Ledger(conf.ledger).requests()]
    assert f"of JSOC request {requests[1]}" in message
    assert f"of JSOC request {requests[0]}" in message
    assert "same record processed differently" in message
    assert "another folder" in message
    assert error.exception.path == first
    assert file_hash(first) == before
    assert "0 of 1 planned files arrived" in str(report)
    (missing,) = report.missing
    assert missing.filename == Path(first).name
    assert missing.reason.startswith("not written: Not writing")
    # the first result fetched again is still accepted, from the ledger
    again, _ = _fetch_one(_search(email, EAST), path)
    assert list(again) == [first]
    assert not again.errors
    assert file_hash(first) == before


def test_other_record_with_the_same_name_is_refused_by_the_ledger(jsoc, email, tmp_path):
    path = tmp_path / "{file}"
    (first,), _ = _fetch_one(_search(email, EAST, NO_WAVE), path)
    before = file_hash(first)
    files, _ = _fetch_one(_search(email, EAST, NO_WAVE, wave=193), path)
    (error,) = _overwrite_errors(files)
    assert "another record's data" in str(error.exception)
    assert "[171] of JSOC request" in str(error.exception)
    assert "[193] of JSOC request" in str(error.exception)
    assert file_hash(first) == before


def test_file_another_ledger_wrote_is_compared_by_its_header(jsoc, email, tmp_path):
    path = tmp_path / "{file}"
    (first,), _ = _fetch_one(_search(email, EAST, NO_WAVE), path)
    before = file_hash(first)
    with conf.set_temp("ledger", str(tmp_path / "other.sqlite")):
        files, _ = _fetch_one(_search(email, EAST, NO_WAVE, wave=193), path)
    (error,) = _overwrite_errors(files)
    assert "this ledger did not write" in str(error.exception)
    assert "WAVELNTH='171' there, '193' in the new file" in str(error.exception)
    assert file_hash(first) == before


def test_same_record_fetched_again_with_another_ledger_is_accepted(jsoc, email, tmp_path):
    path = tmp_path / "{file}"
    (first,), _ = _fetch_one(_search(email, EAST), path)
    with conf.set_temp("ledger", str(tmp_path / "other.sqlite")):
        files, _ = _fetch_one(_search(email, EAST), path)
    assert list(files) == [first]
    assert not files.errors


def test_url_tar_member_is_not_moved_over_another_records_file(jsoc, email, tmp_path):
    path = tmp_path / "{file}"
    tar = jc.Method("url-tar")
    (first,), _ = _fetch_one(_search(email, EAST, tar), path)
    before = file_hash(first)
    files, _ = _fetch_one(_search(email, WEST, tar), path)
    (error,) = _overwrite_errors(files)
    assert "same record processed differently" in str(error.exception)
    assert file_hash(first) == before
    assert not list(tmp_path.glob("*.tar"))


def test_file_an_earlier_version_overwrote_is_not_taken_as_done(jsoc, email, tmp_path):
    """A ledger that recorded two files at one path (before this rule): the one on disk wins."""
    (east,), _ = _fetch_one(_search(email, EAST), tmp_path / "east" / "{file}")
    (west,), _ = _fetch_one(_search(email, WEST), tmp_path / "west" / "{file}")
    ledger = Ledger(conf.ledger)
    _first, second = ledger.requests()
    (entry,) = ledger.files(second.requestid)
    shutil.copyfile(west, east)  # what an earlier version did: the west file over the east one
    ledger.mark_done(second.requestid, entry.filename, east, entry.size, entry.sha256)
    files, _ = _fetch_one(_search(email, EAST), tmp_path / "east" / "{file}")
    (error,) = _overwrite_errors(files)
    assert f"of JSOC request {second.requestid}" in str(error.exception)
    assert file_hash(east) == entry.sha256
