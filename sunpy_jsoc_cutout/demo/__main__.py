"""``python -m sunpy_jsoc_cutout.demo``: run the offline demo."""

import sys

from sunpy_jsoc_cutout.demo import main

if __name__ == "__main__":
    sys.exit(main())
