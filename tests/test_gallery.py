"""
The gallery's examples (``docs/examples/``, run by ``tox -e build_docs``) follow sunpy's gallery
rules and run offline: each has a short title and a motivating paragraph, declares its tags, ends
with ``plt.show()``, and starts and stops its own loopback JSOC emulator with small images.
"""

import ast
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
SOURCES = sorted(EXAMPLES.glob("plot_*.py"))
TAGS = re.compile(r"^# sphinx_gallery_tags = (\[.*\])$", re.MULTILINE)
TITLE = re.compile(r"^=+\n(?P<title>[^\n]+)\n=+\n\n(?P<paragraph>\S.+?)(\n\n|\n?$)", re.DOTALL)
TOPICS = {
    "plot_tracked_sequence.py": "montage and animation of a tracked sequence",
    "plot_tracked_vs_fixed.py": "tracked against untracked",
    "plot_aia_hmi_coaligned.py": "AIA co-aligned with HMI",
    "plot_bytes_saved.py": "cutouts against full-disk downloads",
    "plot_limb_to_limb.py": "limb-to-limb track",
}


def test_the_gallery_has_its_five_examples():
    if not EXAMPLES.is_dir():
        pytest.skip("needs the source tree's docs/examples")
    assert (EXAMPLES / "README.txt").is_file()  # docs/conf.py turns the gallery on with it
    assert sorted(p.name for p in SOURCES) == sorted(TOPICS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_example_follows_the_gallery_rules(path):
    source = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    match = TITLE.match(docstring.lstrip("\n"))
    assert match, "a title between two lines of '=' and a paragraph"
    assert len(match["title"].strip()) <= 50
    assert len(match["paragraph"].split()) >= 25, "a motivating paragraph"
    tags = TAGS.search(source)
    assert tags
    assert "Emulator" in ast.literal_eval(tags.group(1))
    assert source.rstrip().endswith("plt.show()")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_example_starts_and_stops_its_own_small_loopback_emulator(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "JSOCEmulator"]
    assert len(calls) == 1
    keywords = {k.arg: k.value for k in calls[0].keywords}
    assert "host" not in keywords  # the default, 127.0.0.1
    size = keywords["image_size"]
    if isinstance(size, ast.Name):  # a module-level constant
        (size,) = [
            n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == size.id
        ]
    assert ast.literal_eval(size) <= 1024
    stops = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "stop"]
    assert stops, "the example stops its emulator"
