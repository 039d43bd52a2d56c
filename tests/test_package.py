"""
Package-level properties: the version, import boundaries, and the README's quick start.
"""

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

import sunpy_jsoc_cutout
from sunpy_jsoc_cutout import version as version_module

REPO = Path(__file__).resolve().parents[1]
TESTING_DIR = Path(sunpy_jsoc_cutout.__file__).parent / "testing"


def test_version_is_a_valid_pep440_version():
    version = Version(sunpy_jsoc_cutout.__version__)
    # "0.0.0" is the fallback of a broken installation.
    assert version > Version("0.0.0")
    assert (version_module.major, version_module.minor) == (version.major, version.minor)
    assert version_module.release is not version.is_devrelease


def test_version_matches_the_installed_distribution():
    try:
        installed = importlib.metadata.version("sunpy-jsoc-cutout")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("sunpy-jsoc-cutout is not installed (source tree on sys.path)")
    assert Version(installed) == Version(sunpy_jsoc_cutout.__version__)


def _loaded_package_modules(statement):
    code = (
        f"import sys; {statement}; "
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] == 'sunpy_jsoc_cutout')))"
    )
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return set(result.stdout.split())


def test_importing_the_package_does_not_start_or_load_the_emulator():
    modules = _loaded_package_modules("import sunpy_jsoc_cutout")
    assert "sunpy_jsoc_cutout" in modules
    assert not any(m.startswith("sunpy_jsoc_cutout.testing") for m in modules), modules


def _imports_of(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = "sunpy_jsoc_cutout.testing"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.module or ""
            else:
                # Relative imports: resolve against the module's own package.
                relative_parts = path.relative_to(TESTING_DIR).parts[:-1]
                base = [*package.split("."), *relative_parts]
                base = base[: len(base) - (node.level - 1)]
                yield ".".join([*base, node.module] if node.module else base)


def test_emulator_never_imports_the_client_side():
    """The emulator is an independent implementation: a shared misunderstanding must not hide itself."""
    sources = sorted(TESTING_DIR.rglob("*.py"))
    if not sources:
        pytest.fail(f"no emulator sources found in {TESTING_DIR}")
    allowed = ("sunpy_jsoc_cutout.testing",)
    offending = {
        f"{path.relative_to(TESTING_DIR)}: {name}"
        for path in sources
        for name in _imports_of(path)
        if name.split(".")[0] == "sunpy_jsoc_cutout" and not name.startswith(allowed)
    }
    assert not offending


def _quick_start_commands(readme_text):
    section = readme_text.split("Quick start\n===========", 1)[1].split("\n=====", 1)[0]
    blocks = re.findall(r"\.\. code-block:: bash\n\n((?:[ \t]+\S.*\n)+)", section)
    return [block.strip() for block in blocks]


@pytest.fixture
def source_tree():
    if not (REPO / "README.rst").is_file() or not (REPO / ".ci" / "run").is_file():
        pytest.skip("the source tree (README.rst, .ci/run) is not available")
    return REPO


def test_readme_quick_start_has_two_self_contained_commands(source_tree):
    demo, tests = _quick_start_commands((source_tree / "README.rst").read_text(encoding="utf-8"))
    for command in (demo, tests):
        assert "\n" not in command
        assert command.startswith("python3 -m venv ")
    assert demo.endswith("python -m sunpy_jsoc_cutout.demo")
    assert "tox -e py311-sunpy7,py312-sunpy8" in tests


def test_ci_runs_exactly_the_readme_test_command(source_tree):
    _, tests = _quick_start_commands((source_tree / "README.rst").read_text(encoding="utf-8"))
    script = (source_tree / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    assert tests in script.splitlines()
    assert os.access(source_tree / ".ci" / "run", os.X_OK)
