"""The nurses' dashboard and its account commands (`flask users ...`)."""

from __future__ import annotations

from ..feature import Feature
from . import init_dashboard
from .users import users_cli

# CSRF and the session store need the app itself, so the dashboard registers its blueprint in init_app.
FEATURE = Feature("dashboard", commands=(users_cli,), init_app=init_dashboard)
