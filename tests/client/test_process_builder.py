"""The process string and size ratio; structured processes."""

from dataclasses import replace

import pytest

from astropy.time import Time

from sunpy_jsoc_cutout._plan.coords import ImPatchLocation
from sunpy_jsoc_cutout._plan.jsoc_text import number
from sunpy_jsoc_cutout._plan.process import (
    ImPatch,
    Process,
    Step,
    aia_scale_step,
    build_process,
    im_patch_args,
    rebin_args,
    size_ratio,
)
from sunpy_jsoc_cutout._plan.series_rules import rules_for

LOC = ImPatchLocation("arcsec", -517.2, -246.0, "arcsec", 345.6, 345.6)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-246.0, "-246"),
        (345.6, "345.6"),
        (-517.20000000001, "-517.2"),
        (-0.00001, "0"),
        (1e-3, "0.001"),
        (2048, "2048"),
    ],
)
def test_number_format(value, text):
    assert number(value) == text


def test_page_argument_order():
    args = im_patch_args(
        LOC,
        t_ref=Time("2015-10-17T04:33:30"),
        t_start=Time("2015-10-17T04:33:30"),
        t_stop=Time("2015-10-17T09:33:30"),
        cadence="84s",
        full_headers=True,
    )
    assert list(args) == [
        "t_start",
        "t_stop",
        "t",
        "r",
        "c",
        "h",
        "cadence",
        "locunits",
        "boxunits",
        "t_ref",
        "x",
        "y",
        "width",
        "height",
    ]


def test_carrlong_puts_car_rot_before_x():
    loc = ImPatchLocation("carrlong", 120, 12, "degrees", 10, 10, car_rot=2168)
    args = im_patch_args(loc, t_ref=Time("2015-10-17T04:33:30"))
    assert list(args)[-5:] == ["car_rot", "x", "y", "width", "height"]


def test_tai_reference_time_is_sent_as_utc():
    args = im_patch_args(LOC, t_ref=Time("2015-10-17T04:34:06", scale="tai"))
    assert args["t_ref"] == "2015-10-17T04:33:30.000"


def test_steps_and_limit():
    steps = [aia_scale_step(rules_for("aia.lev1_euv_12s")), ("im_patch", {"t": 0}), ("rebin", rebin_args(0.25))]
    assert build_process(steps, 100) == "n=100|aia_scale_aialev1|im_patch,t=0|rebin,u=0,scale=0.25,method=boxcar"
    assert aia_scale_step(rules_for("aia.lev1"), "sdo.master_pointing") == (
        "aia_scale_orig",
        {"mpt": "sdo.master_pointing"},
    )


def test_size_ratio_counts_pixels():
    rules = rules_for("aia.lev1_euv_12s")
    assert size_ratio(LOC, rules) == pytest.approx(577 * 577 / 4096**2)
    pix = ImPatchLocation("pixels", 0, 0, "pixels", 1023, 511)
    assert size_ratio(pix, rules, rebin_scale=0.5) == pytest.approx(1024 * 512 / 4096**2 / 4)
    huge = ImPatchLocation("arcsec", 0, 0, "arcsec", 5000, 5000)
    assert size_ratio(huge, rules) == 1.0


# --- The structured process renders exactly the text of the former string builder -----------------------------

T_REF = Time("2015-10-17T04:33:30")


def old_build_process(steps, limit=0):
    """The string builder the client had before `Process` (kept here as the reference)."""
    parts = [f"n={int(limit)}"]
    for step, args in steps:
        parts.append(",".join([step, *(f"{key}={value}" for key, value in args.items())]))
    return "|".join(parts)


PATCHES = [
    {"t_ref": T_REF},
    {"t_ref": T_REF, "t_start": T_REF, "t_stop": Time("2015-10-17T09:33:30"), "cadence": "84s"},
    {"t_ref": T_REF, "tracking": False, "register": True, "crop": True, "full_headers": True},
]


@pytest.mark.parametrize("patch", PATCHES)
@pytest.mark.parametrize("limit", [0, 5, -3])
@pytest.mark.parametrize("extra", ["none", "scale", "rebin", "both"])
def test_process_renders_the_former_text(patch, limit, extra):
    rules = rules_for("aia.lev1")
    before = [aia_scale_step(rules, "aia.master_pointing3h")] if extra in ("scale", "both") else []
    after = [("rebin", rebin_args(0.25, "gaussian", 2.0, 5))] if extra in ("rebin", "both") else []
    pairs = [*before, ("im_patch", im_patch_args(LOC, **patch)), *after]
    steps = (*(Step.of(*s) for s in before), ImPatch(LOC, **patch), *(Step.of(*s) for s in after))
    process = Process(steps, limit)
    assert process.render() == str(process) == old_build_process(pairs, limit) == build_process(pairs, limit)
    assert process.im_patch == ImPatch(LOC, **patch)


def test_limit_and_padding_replace_fields():
    process = Process((ImPatch(LOC, t_ref=T_REF),), limit=7)
    tail = process.render().partition("|")[2]
    assert process.with_limit(0).render() == f"n=0|{tail}"
    assert process.with_limit(-2).render() == f"n=-2|{tail}"
    assert Process(process.steps, 0, pad=2).render() == f"n=000|{tail}"  # atoi reads the same limit
    assert Process(process.steps, -3, pad=1).render() == f"n=-03|{tail}"
    assert Process(process.steps, -3, pad=1).with_limit(4).render() == f"n=4|{tail}"


def test_widening_im_patch_times_renders_like_editing_the_text():
    t_stop = Time("2015-10-17T09:33:30")
    process = Process((ImPatch(LOC, t_ref=T_REF, t_start=T_REF, t_stop=t_stop, cadence="60s"),), 0)
    later = Time("2015-10-17T09:33:41.500")
    wider = process.with_im_patch(replace(process.im_patch, t_stop=later))
    assert wider.render() == process.render().replace(
        "t_stop=2015-10-17T09:33:30.000", "t_stop=2015-10-17T09:33:41.500"
    )
