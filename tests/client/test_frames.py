"""Record selection and size estimates (pure), against rules written out independently here."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunpy_jsoc_cutout._plan.checks import _ADVICE
from sunpy_jsoc_cutout._plan.frames import SKIP_REASONS, box_pixels, estimate_bytes, select_lev1_frames, skip_reasons
from sunpy_jsoc_cutout._transfer import report


def nearest_good_per_slot(times, quality, cadence):
    """The rule as im_patch's documentation states it: per slot, the closest good frame within half a cadence."""
    t0 = times[0]
    nslots = int((times[-1] - t0 + cadence / 2) / cadence)
    chosen = []
    for slot in range(nslots):
        want = t0 + slot * cadence
        good = [(abs(t - want), -i, i) for i, (t, q) in enumerate(zip(times, quality)) if q >= 0]
        good = [g for g in good if want - cadence / 2 < times[g[2]] <= want + cadence / 2]
        if good:
            chosen.append(min(good)[2])
    return chosen


def test_guide_day_gives_480_frames_at_one_minute():
    # aia.lev1 at 12 s, 08:00:01 to 16:00:01 inclusive (2401 frames), one minute cadence: 480 slots.
    times = 1.0 + 12.0 * np.arange(2401)
    assert len(select_lev1_frames(times, np.zeros(2401, int), 60.0)) == 480


def test_bad_frame_is_replaced_by_its_neighbour():
    times = 12.0 * np.arange(11)
    quality = np.zeros(11, int)
    quality[5] = -(1 << 31)  # slot 1 of 60 s wants t=60, which is bad
    chosen = select_lev1_frames(times, quality, 60.0)
    # Slot 1 (60 s): 48 s and 72 s are equally near; im_patch's "<=" keeps the later one. nslots =
    # int((120 + 30) / 60) = 2, so the last frame (120 s) has no slot of its own.
    assert list(chosen) == [0, 6]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.5, 30.0), min_size=2, max_size=120),
    st.lists(st.booleans(), min_size=120, max_size=120),
    st.sampled_from([24.0, 60.0, 90.0, 120.0]),
)
def test_selection_matches_the_stated_rule(gaps, bad, cadence):
    times = np.cumsum([0.0, *gaps])
    quality = np.where(np.array(bad[: len(times)]), -1, 0)
    ours = list(select_lev1_frames(times, quality, cadence))
    assert set(ours) <= set(np.flatnonzero(quality >= 0))
    reference = nearest_good_per_slot(list(times), list(quality), cadence)
    assert ours == reference


@pytest.mark.parametrize(
    ("width", "cdelt", "expected"),
    [(650.0, 0.6, 1084), (650.0, 0.599489, 1085), (345.6, 0.6, 577), (345.6, 0.6001, 576)],
)
def test_arcsec_box_size_is_im_patch_s(width, cdelt, expected):
    # im_patch's box size, int(1 + width/CDELT1) (lm-jps/proj:util/apps/im_patch.c L943-975)
    assert box_pixels("arcsec", width, np.array([cdelt]))[0] == expected


def test_pixel_box_and_bytes():
    assert box_pixels("pixels", 500.4, np.array([0.6, 0.5]))[1] == 500
    # 577 x 577 float32 = 1,331,716 bytes -> 463 FITS blocks, plus the header blocks
    assert estimate_bytes(np.array([577 * 577]))[0] == 463 * 2880 + 8 * 2880


def test_skip_reasons():
    quality = np.array([0, -5, 0, 0])
    has_image = np.array([True, True, False, True])
    centre = (np.array([100.0, 100, 100, -400]), np.array([100.0, 100, 100, 100]))
    reasons = skip_reasons(quality, has_image, centre=centre, size=(50, 50), shape=(256, 256))
    assert list(reasons) == ["", "QUALITY < 0", "no image", "box off the image"]
    assert list(reasons[1:]) == list(SKIP_REASONS)


def test_skip_reasons_have_one_definition():
    # The job report and the search's refusal advice use the texts skip_reasons writes.
    assert (report.SKIP_QUALITY, report.SKIP_NO_IMAGE, report.SKIP_BOX_OFF) == SKIP_REASONS
    assert set(_ADVICE) == set(SKIP_REASONS)
