"""tests/engine/: the functional core alone. No database, no Flask, no Twilio: each test runs in milliseconds.
`--update-golden` (declared in tests/conftest.py) rewrites golden/*.json after a deliberate change."""

from __future__ import annotations

import pytest


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
