"""The clinical record: the case page's FHIR download, `flask cases show` and `flask fhir ...`."""

from __future__ import annotations

from ..feature import Feature
from .cli import cases_cli, fhir_cli
from .views import bp

FEATURE = Feature("records", blueprints=(bp,), commands=(cases_cli, fhir_cli))
