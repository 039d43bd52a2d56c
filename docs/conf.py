# Configuration file for the Sphinx documentation builder.
#
# Offline builds: set SPHINX_OFFLINE=1 (the default in "tox -e build_docs") to skip intersphinx,
# which needs the network to fetch other projects' inventories. Cross-references to other
# projects then stay unresolved and are not reported; references inside this package are still
# checked (nitpicky). Set SPHINX_OFFLINE=0 on a machine with internet access for the full check.
import datetime
import doctest
import os
from pathlib import Path

from packaging.version import Version

# -- Project information -----------------------------------------------------------------------
from sunpy_jsoc_cutout import __version__

_version = Version(__version__)
version = release = str(_version)
# Avoid "post" appearing in version string in rendered docs
if _version.is_postrelease:
    version = release = _version.base_version
# Avoid long githashes in rendered Sphinx docs
elif _version.is_devrelease:
    version = release = f"{_version.base_version}.dev{_version.dev}"
is_development = _version.is_devrelease
is_release = not (_version.is_prerelease or _version.is_devrelease)

project = "sunpy-jsoc-cutout"
author = "The sunpy-jsoc-cutout developers"
copyright = f"{datetime.datetime.now(datetime.UTC).year}, {author}"  # noqa: A001

OFFLINE = os.environ.get("SPHINX_OFFLINE", "0").strip().lower() not in {"", "0", "false", "no"}
HERE = Path(__file__).parent

# -- General configuration ---------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.napoleon",
    "sphinx.ext.todo",
    "sphinx.ext.viewcode",
    "sphinx_automodapi.automodapi",
    "sphinx_automodapi.smart_resolver",
    "sphinx_changelog",
    "matplotlib.sphinxext.plot_directive",
]
# Gallery examples live in docs/examples/ (sphinx-gallery), once there are any.
HAS_GALLERY = (HERE / "examples" / "README.txt").exists()
if HAS_GALLERY:
    extensions.append("sphinx_gallery.gen_gallery")

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generated/gallery/*.ipynb"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

# Treat everything in single ` as a Python reference.
default_role = "py:obj"

# numpydoc-style docstrings rendered by napoleon
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = False
autoclass_content = "both"
autodoc_typehints = "none"

# automodapi
automodapi_toctreedirnm = "generated/api"
automodsumm_inherited_members = False
# No graphviz on these machines; the class diagrams add little for a small API.
automodapi_inheritance_diagram = False
numpydoc_show_class_members = False

# -- Options for intersphinx -------------------------------------------------------------------
intersphinx_mapping = {}
if not OFFLINE:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3/", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "astropy": ("https://docs.astropy.org/en/stable/", None),
        "sunpy": ("https://docs.sunpy.org/en/stable/", None),
        "drms": ("https://docs.sunpy.org/projects/drms/en/stable/", None),
        "parfive": ("https://parfive.readthedocs.io/en/stable/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
        "ndcube": ("https://docs.sunpy.org/projects/ndcube/en/stable/", None),
    }

# -- Nitpicky mode: every cross-reference must resolve ----------------------------------------
nitpicky = True
# The actual listing is in the docs/nitpick-exceptions file.
nitpick_ignore = []
with (HERE / "nitpick-exceptions").open() as f:
    for line in f:
        if line.strip() == "" or line.startswith("#"):
            continue
        dtype, target = line.split(None, 1)
        nitpick_ignore.append((dtype, target.strip()))
nitpick_ignore_regex = []
if OFFLINE:
    # Without intersphinx, only references into this package can be resolved.
    nitpick_ignore_regex.append((r"py:.*", r"^(?!sunpy_jsoc_cutout\b).*"))

# -- matplotlib's plot directive -------------------------------------------------------------
# The tutorial is one doctest session run against the emulator: its blocks are plot directives
# sharing one context (":context:"), so the figure at its end is drawn from the files it fetched.
# Shown as code blocks, without links to the figure's source and formats.
# pytest-doctestplus's "# doctest: +IGNORE_OUTPUT" must parse when the directive runs the code.
doctest.register_optionflag("IGNORE_OUTPUT")
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

# -- Options for HTML output -------------------------------------------------------------------
html_theme = "sunpy"
html_title = f"{project} {version}"

# -- Options for the Sphinx gallery ------------------------------------------------------------
if HAS_GALLERY:
    from sunpy_sphinx_theme import PNG_ICON

    sphinx_gallery_conf = {
        "backreferences_dir": Path("generated") / "modules",
        "filename_pattern": "^((?!skip_).)*$",
        "examples_dirs": "examples",
        "gallery_dirs": Path("generated") / "gallery",
        "default_thumb_file": PNG_ICON,
        "abort_on_example_error": False,
        "plot_gallery": "True",
        "remove_config_comments": True,
        "doc_module": ("sunpy_jsoc_cutout",),
        "only_warn_on_example_error": True,
        # MapSequence.plot() animations are embedded as JavaScript players (no ffmpeg needed).
        "matplotlib_animations": (True, "jshtml"),
    }
