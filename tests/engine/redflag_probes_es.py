"""Spanish and Spanglish universal red-flag families (#16), each in words of its own (not the corpus items), and the
look-alikes found by probing each new rule: they must stay quiet as that flag. Kept apart from the English probes so
the two can be tuned at the same time."""

from __future__ import annotations

ES_FAMILIES: dict[str, str] = {}

ES_LOOK_ALIKES: dict[str, str] = {}
