"""The case page's download: the case's conversation as a FHIR Bundle, audited like the page itself.

A blueprint of its own under /dashboard, guarded by the dashboard's own sign-in, CSRF and header hooks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, g

from ..dashboard.auth import audit, load_user_and_check_csrf, login_required, protect_response, svc
from . import store
from .bundle import export_text
from .fhir import MIME

log = logging.getLogger(__name__)
# As the case page's own route: a 64-bit row id, anything else is a 404 (dashboard/views.py).
CASE_ID = f"<int(min=1, max={2**63 - 1}):case_id>"
bp = Blueprint("records", __name__, url_prefix="/dashboard", template_folder="templates")
bp.before_request(load_user_and_check_csrf)
bp.after_request(protect_response)


@bp.get(f"/cases/{CASE_ID}/fhir.json")
@login_required
def case_fhir(case_id: int) -> Any:
    with svc().factory() as session:
        conversation_id = store.conversation_of_case(session, case_id)
        record = store.load(svc(), session, conversation_id) if conversation_id else None
    if record is None:
        abort(404)
    text = export_text(svc(), record)
    audit("export_fhir", escalation_id=case_id, patient_id=record.patient.id,
          detail=f"conversation {record.conversation.id}")
    log.info("records.export_fhir case=%s user_id=%s", case_id, g.user.id)
    return Response(text, mimetype=MIME, headers={
        "Content-Disposition": f'attachment; filename="case-{case_id}-fhir.json"'})
