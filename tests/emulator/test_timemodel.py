"""The emulator's time model presets and clock."""

import datetime

import pytest

from sunpy_jsoc_cutout.testing.exports.clock import Clock
from sunpy_jsoc_cutout.testing.exports.timemodel import FAST, REALISTIC


def test_fast_preset_is_poll_driven_without_waits():
    assert FAST.poll_driven
    assert FAST.polls_processing == 1
    assert FAST.fresh_wait == 0
    assert FAST.bandwidth is None
    assert FAST.completion_delay(1, n_files=300, n_records=150, steps=["im_patch"], tar=True) == 0


def test_realistic_preset_matches_the_timings_note():
    assert not REALISTIC.poll_driven
    assert REALISTIC.fresh_wait == 10
    assert REALISTIC.bandwidth == 4e6
    # 151 AIA records, image + spikes: 10 s overhead + 302 x 0.35 s.
    assert REALISTIC.processing_time(302, 151) == pytest.approx(10 + 302 * 0.35)
    assert REALISTIC.processing_time(61, 61, ["im_patch"]) == pytest.approx(10 + 61 * 0.35 + 61 * 1.5)
    assert REALISTIC.processing_time(10, 10, ["aia_scale_aialev1"], tar=True) == pytest.approx(10 + 3.5 + 20 + 1)
    assert REALISTIC.step_cost("no_op") == 0
    assert REALISTIC.step_cost("rebin") == 1.0


def test_queue_jitter_is_seeded_and_bounded():
    delays = [REALISTIC.queue_time(serial) for serial in range(50)]
    assert all(3 <= d < 8 for d in delays)
    assert len(set(delays)) > 40
    assert delays == [REALISTIC.queue_time(serial) for serial in range(50)]


def test_scaled_model_keeps_proportions():
    fast = REALISTIC.scaled(10)
    assert fast.fresh_wait == pytest.approx(1)
    assert fast.bandwidth == pytest.approx(4e7)
    assert fast.processing_time(302, 151) == pytest.approx(REALISTIC.processing_time(302, 151) / 10)
    assert fast.queue_time(3) == pytest.approx(REALISTIC.queue_time(3) / 10)
    with pytest.raises(ValueError, match="positive"):
        REALISTIC.scaled(0)


def test_clock_advances_and_starts_where_asked():
    clock = Clock()
    before = clock.now()
    assert clock.advance(7 * 86400) - before >= 7 * 86400
    start = datetime.datetime(2020, 4, 10, 23, 59, 59)
    fixed = Clock(start=start)
    assert fixed.now_datetime().strftime("%Y%m%d") == "20200410"
    fixed.advance(2)
    assert fixed.now_datetime().strftime("%Y%m%d") == "20200411"
