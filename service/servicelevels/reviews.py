"""/dashboard/service-levels/held-up: the clinical lead's review list of advice that did not hold up (issue #20,
item 4; heldup.py says what counts). Each re-contact at a higher level within 7 days is shown with both
conversations side by side, the first up to its advice and the second up to the higher level, and can be
marked reviewed with a note.

Nurses and admins see the list (as they see the service levels); only an admin (the clinical lead's account)
marks a review: a sign-off on the line's own under-triage. The note is about the patient, so it is sealed
(advice_reviews.note); the audit row says who reviewed which conversation, never the note.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..dashboard import auth
from ..dashboard.auth import audit, audit_row, login_required, svc
from ..dashboard.queue import level_words
from ..dashboard.views import NOTE_LIMIT, page_globals
from ..db import transaction
from ..models import AdviceReview, Conversation, Escalation
from ..records.store import load, summary_of
from ..records.summary import Exchange, FlagLine
from .heldup import AdviceVerdict, held_up
from .recontacts import held_up_between, load_outcomes
from .views import PERIODS, Period, period_of

bp = Blueprint("advice_reviews", __name__, url_prefix="/dashboard/service-levels/held-up",
               template_folder="templates")
bp.before_request(auth.load_user_and_check_csrf)
bp.after_request(auth.protect_response)
bp.context_processor(page_globals)
bp.register_error_handler(403, auth.forbidden)


@dataclass(frozen=True)
class Side:
    """One conversation as the review shows it: what the patient answered and where it led."""

    conversation_id: int
    channel: str
    language: str
    level: str
    node: str
    at: datetime
    exchanges: tuple[Exchange, ...]
    red_flags: tuple[FlagLine, ...]
    case_id: int | None = None


@dataclass(frozen=True)
class Pair:
    verdict: AdviceVerdict
    first: Side
    second: Side
    review: AdviceReview | None


def _side(session: Session, conversation_id: int, after: datetime | None, until: datetime, level: str,
          node: str, case_id: int | None) -> Side:
    """The conversation's exchanges in (after, until]: the advice's own (after None), or those that led on."""
    record = load(svc(), session, conversation_id)
    assert record is not None
    summary = summary_of(svc(), record)
    shown = tuple(e for e in summary.exchanges if (after is None or e.at > after) and e.at <= until)
    numbers = {e.number for e in shown}
    flags = tuple(f for f in summary.red_flags if any(ev.exchange in numbers for ev in f.found))
    return Side(conversation_id, record.conversation.channel, summary.language, level, node, until, shown,
                flags, case_id)


def _pair(session: Session, verdict: AdviceVerdict, review: AdviceReview | None) -> Pair:
    advice, later = verdict.advice, verdict.recontact
    assert later is not None
    same = later.conversation_id == advice.conversation_id
    case_id = _later_case(session, verdict)
    first = _side(session, advice.conversation_id, None, advice.at, advice.level, advice.node, None)
    second = _side(session, later.conversation_id, advice.at if same else None, later.at, later.level, later.node,
                   case_id)
    return Pair(verdict, first, second, review)


def _later_case(session: Session, verdict: AdviceVerdict) -> int | None:
    """The case the higher level opened (a higher level reached by words alone opens one too)."""
    later = verdict.recontact
    assert later is not None
    return later.case_id or session.scalar(
        select(Escalation.id).where(Escalation.conversation_id == later.conversation_id,
                                    Escalation.created_at > verdict.advice.at).order_by(Escalation.id).limit(1))


def _chosen() -> tuple[Period, datetime]:
    settings = svc().settings
    now = svc().clock()
    return period_of(request.args, now, ZoneInfo(settings.clinic_timezone)), now


@bp.get("/")
@login_required
def page() -> Any:
    period, now = _chosen()
    with svc().factory() as session:
        found = held_up_between(session, svc().flows, period.start, period.end, now)
        ids = [v.advice.conversation_id for v in found.recontacted]
        reviews = {r.conversation_id: r for r in session.scalars(
            select(AdviceReview).where(AdviceReview.conversation_id.in_(ids)))} if ids else {}
        pairs = [_pair(session, v, reviews.get(v.advice.conversation_id)) for v in found.recontacted]
    audit("view_advice_reviews", detail=f"{period.first}..{period.last}: {len(pairs)} re-contacts")
    return render_template("service_levels/held_up.html", held=found, pairs=pairs, period=period, periods=PERIODS,
                           level_words=level_words, note_limit=NOTE_LIMIT, can_review=g.user.role == "admin",
                           days=lambda v: f"{v:.1f}")


@bp.post("/<int:conversation_id>/review")
@login_required
def review(conversation_id: int) -> Any:
    back = redirect(url_for("advice_reviews.page", **_back_query()) + f"#advice-{conversation_id}")
    if g.user.role != "admin":
        audit("review_advice", detail=f"refused: conversation {conversation_id}: admins only")
        abort(403)
    note = " ".join(request.form.get("note", "").split())
    if len(note) > NOTE_LIMIT:
        flash(f"The note is too long ({len(note)} characters; at most {NOTE_LIMIT}).", "error")
        return back
    now = svc().clock()
    with svc().factory() as session:
        judged = _judge(session, conversation_id, now)
    if judged is None or judged.recontact is None:
        audit("review_advice", detail=f"refused: conversation {conversation_id}: no re-contact at a higher level")
        flash("That advice has no re-contact at a higher level to review.", "error")
        return back
    for attempt in (1, 2):  # two reviewers at once: the second finds the row the first made, and updates it
        try:
            _store(judged, note, now)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    flash(f"Review of conversation {conversation_id} saved.", "success")
    return back


CSV_COLUMNS = ("advice_conversation", "advised", "advice_level", "advice_outcome", "result", "recontact_conversation",
               "recontact_level", "recontact", "days_after", "via", "reviewed_by", "reviewed")


@bp.get("/advice.csv")
@login_required
def advice_csv() -> Any:
    """Every advice of the period, one row each, with its verdict and review (never the note: it is sealed)."""
    period, now = _chosen()
    zone = ZoneInfo(svc().settings.clinic_timezone)
    with svc().factory() as session:
        found = held_up_between(session, svc().flows, period.start, period.end, now)
        ids = [v.advice.conversation_id for v in found.recontacted]
        reviews = {r.conversation_id: r for r in session.scalars(
            select(AdviceReview).where(AdviceReview.conversation_id.in_(ids)))} if ids else {}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for v in found.verdicts:
        later, review = v.recontact, reviews.get(v.advice.conversation_id)
        writer.writerow([v.advice.conversation_id, _iso(v.advice.at, zone), v.advice.level, v.advice.node, v.state,
                         later.conversation_id if later else "", later.level if later else "",
                         _iso(later.at, zone) if later else "", f"{v.days_after:.2f}" if later else "", v.via,
                         review.reviewed_by if review else "", _iso(review.reviewed_at, zone) if review else ""])
    audit("export_advice_held_up", detail=f"{period.first}..{period.last}: {len(found.verdicts)} advice")
    name = f"advice-held-up-{period.first}-{period.last}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _judge(session: Session, conversation_id: int, now: datetime) -> AdviceVerdict | None:
    """This conversation's advice, judged afresh (the form names a conversation, never a verdict)."""
    started = session.scalar(select(Conversation.started_at).where(Conversation.id == conversation_id))
    if started is None:
        return None
    found = load_outcomes(session, svc().flows, started, now + timedelta(days=1))
    advice = [o for o in found if o.first and o.conversation_id == conversation_id]
    if not advice:
        return None
    judged = held_up(found, now, advice[0].at, advice[0].at + timedelta(microseconds=1))
    return next((v for v in judged.verdicts if v.advice.conversation_id == conversation_id), None)


def _store(judged: AdviceVerdict, note: str, now: datetime) -> None:
    advice, later = judged.advice, judged.recontact
    assert later is not None
    with transaction(svc().factory) as session:
        row = session.scalar(select(AdviceReview).where(AdviceReview.conversation_id == advice.conversation_id))
        if row is None:
            row = AdviceReview(conversation_id=advice.conversation_id, patient_id=advice.patient_id)
            session.add(row)
        row.later_conversation_id, row.later_level, row.later_at = later.conversation_id, later.level, later.at
        row.reviewed_by, row.reviewed_at, row.note = g.user.username, now, note
        session.add(audit_row(g.user, "review_advice", now, escalation_id=_later_case(session, judged),
                              patient_id=advice.patient_id,
                              detail=f"conversation {advice.conversation_id} ({advice.level}) -> "
                                     f"{later.level} after {judged.days_after:.1f} days"
                                     + ("" if note else "; no note")))


def _iso(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds")


def _back_query() -> dict[str, str]:
    return {k: v for k in ("period", "from", "to") if (v := request.form.get(k, ""))}

