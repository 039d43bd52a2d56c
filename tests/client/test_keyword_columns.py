"""
Keyword columns read at once (``_plan.rows.ints_of``/``floats_of``, ``_plan.jsoc_text.absent_mask``)
give what reading each value alone gives (``int_keyword``, ``float``, ``is_absent``), whatever mix of
JSOC's strings, numbers and absent markers a column holds.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sunpy_jsoc_cutout._plan.jsoc_text import absent_mask, int_keyword, is_absent
from sunpy_jsoc_cutout._plan.rows import floats_of, ints_of

VALUES = st.one_of(
    st.sampled_from(["MISSING", "Invalid KeyLink", "", " ", "-4712.01.01_00:00:00_TAI", "0x80000000", "0x00000400",
                     "2147483648", "4294967295", "-5", " 12 ", "1.7", "-1.7", "nan", "1e3", "x", None]),
    st.integers(-(2**40), 2**40),
    st.floats(-1e12, 1e12) | st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    st.integers(0, 10**9).map(str),
)  # fmt: skip


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


@given(st.lists(VALUES, max_size=12), st.sampled_from([32, 64]))
def test_columns_read_at_once_equal_each_value_read_alone(values, bits):
    assert list(ints_of(values, -1, bits=bits)) == [int_keyword(v, -1, bits=bits) for v in values]
    assert list(absent_mask(values)) == [is_absent(v) for v in values]
    np.testing.assert_array_equal(floats_of(values), np.array([_float(v) for v in values], dtype=float))


@given(st.lists(st.integers(0, 2**32 - 1).map(str), min_size=1, max_size=12))
def test_a_column_of_decimal_integers_wraps_like_int_keyword(values):
    assert list(ints_of(values, -1)) == [int_keyword(v, -1) for v in values]
