"""More red-flag probe cases, for the back flow's own flags (tests/engine/test_redflag_families.py plays them):
families of wording in a tuner's own words (not the corpus items), and look-alikes that must not be that flag.
Kept apart from that file's lists so that two engineers tuning the universal and the back flags at once
edit different files."""

from __future__ import annotations

BACK_FAMILIES: dict[str, str] = {
}

BACK_LOOK_ALIKES: dict[str, str] = {
}
