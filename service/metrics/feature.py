"""Metrics for the platform (issue #20, item 5): GET /metrics for Prometheus, behind METRICS_TOKEN."""

from __future__ import annotations

from ..feature import Feature
from .views import bp

FEATURE = Feature("metrics", blueprints=(bp,))
