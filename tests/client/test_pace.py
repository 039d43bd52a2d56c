"""The pace of finished requests: when the next request should be ready (pure)."""

import pytest

from sunpy_jsoc_cutout._transfer.pace import StagingPace


def test_before_any_request_the_estimates_are_used():
    pace = StagingPace(overhead=20, per_record=1.5)
    assert pace.expected(100) == pytest.approx(170)
    assert pace.expected(0) is None
    assert pace.expected(None) is None


def test_a_finished_request_sets_the_pace_and_the_guess_errs_early():
    pace = StagingPace(overhead=20, per_record=1.0)
    pace.finished(240, 500.0)  # seen pending 500 s after its submission
    assert pace.expected(240) == pytest.approx(500)
    # Smaller: scaled (the overhead scaled down too, so early); larger: overhead plus the rate left.
    assert pace.expected(60) == pytest.approx(125)
    assert pace.expected(480) == pytest.approx(20 + 480 * 480 / 240)
    assert pace.expected(480) < 1000


def test_nothing_is_learned_from_no_records_or_no_time():
    pace = StagingPace(overhead=20, per_record=1.0)
    pace.finished(0, 100)
    pace.finished(10, 0)
    assert pace.last is None
    pace.finished(10, 5)  # quicker than the overhead: the overhead alone
    assert pace.expected(10) == pytest.approx(5)
