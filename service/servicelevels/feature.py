"""Service levels (issue #20, item 3): the dashboard page with its plots and CSV export."""

from __future__ import annotations

from ..feature import Feature
from .views import bp

FEATURE = Feature("service_levels", blueprints=(bp,))
