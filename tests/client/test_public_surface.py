"""
The public surface is self-contained: what a user calls, reads or catches is documented publicly.
"""

import inspect
from pathlib import Path

from sunpy_jsoc_cutout import exceptions, jobs
from sunpy_jsoc_cutout._transfer import report
from sunpy_jsoc_cutout.client import JSOCCutoutClient

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_fetch_documents_every_keyword_in_its_own_docstring():
    parameters = inspect.signature(JSOCCutoutClient.fetch).parameters
    documented = JSOCCutoutClient.fetch.__doc__.split("Parameters")[1].split("Returns")[0]
    for name, parameter in parameters.items():
        if name == "self":
            continue
        shown = f"**{name}" if parameter.kind is parameter.VAR_KEYWORD else f"{name} :"
        assert shown in documented, name
    assert "_fetch" not in JSOCCutoutClient.fetch.__doc__


def test_last_report_is_declared_and_its_type_is_public():
    assert "last_report" in JSOCCutoutClient.__annotations__
    assert JSOCCutoutClient.last_report is None
    assert jobs.JobReport is report.JobReport
    assert {"JobReport", "FailedRequest", "MissingFile"} <= set(jobs.__all__)


def test_search_errors_are_public_exceptions():
    assert issubclass(exceptions.SeriesNotFoundError, exceptions.JSOCInfoError)
    assert issubclass(exceptions.JSOCInfoError, exceptions.JSOCCutoutError)
    assert {"JSOCInfoError", "SeriesNotFoundError"} <= set(exceptions.__all__)


def test_no_nitpick_exception_names_a_private_path():
    lines = (DOCS / "nitpick-exceptions").read_text().splitlines()
    targets = [line.split(None, 1)[1] for line in lines if line.strip() and not line.startswith("#")]
    assert not [t for t in targets if t.startswith("sunpy_jsoc_cutout._") or "._" in t]
