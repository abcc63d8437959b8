"""Service levels (issue #20, item 3): the dashboard page with its plots and CSV export; did the advice hold up
(item 4): its rate on the page and the clinical lead's review list."""

from __future__ import annotations

from ..feature import Feature
from . import reviews
from .views import bp

FEATURE = Feature("service_levels", blueprints=(bp, reviews.bp))
