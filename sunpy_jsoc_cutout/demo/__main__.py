"""``python -m sunpy_jsoc_cutout.demo``: run the offline demo."""

from sunpy_jsoc_cutout.demo import main

raise SystemExit(main())
