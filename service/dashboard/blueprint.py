"""The dashboard's blueprint and CSRF guard, in a module of their own: the route modules register on `bp`,
and the package's init_dashboard imports those modules, so neither imports the other's package."""

from __future__ import annotations

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static")
csrf = CSRFProtect()
