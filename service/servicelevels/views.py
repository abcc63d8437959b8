"""GET /dashboard/service-levels (nurses and admins): the figures for a period, its plots and its CSV.

A blueprint of its own that reuses the dashboard's sign-in, security headers and page frame.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..dashboard.auth import audit, load_user_and_check_csrf, login_required, protect_response, svc
from ..dashboard.queue import DISPOSITION_WORDS, level_words
from ..dashboard.views import page_globals
from ..models import Conversation, Escalation
from . import plots
from .figures import CaseTimes, Report, Targets, minutes_words, report
from .recontacts import held_up_between

bp = Blueprint("service_levels", __name__, url_prefix="/dashboard/service-levels", template_folder="templates")
bp.before_request(load_user_and_check_csrf)
bp.after_request(protect_response)
bp.context_processor(page_globals)

PERIODS = {"today": ("Today", 1), "7d": ("7 days", 7), "30d": ("30 days", 30)}
LONGEST = 366  # days one page may cover
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    key: str  # today | 7d | 30d | dates
    first: date  # local dates, both included
    last: date
    problem: str = ""

    @property
    def query(self) -> dict[str, str]:
        if self.key == "dates":
            return {"from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.key}


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def period_of(args: Any, now: datetime, zone: ZoneInfo) -> Period:
    """Today / the last 7 or 30 days (today included), or ?from=YYYY-MM-DD&to=YYYY-MM-DD (both included)."""
    today = now.astimezone(zone).date()
    problem = ""
    raw_from, raw_to = args.get("from", ""), args.get("to", "")
    if raw_from or raw_to:
        try:
            first = date.fromisoformat(raw_from) if _DATE.fullmatch(raw_from) else None
            last = date.fromisoformat(raw_to) if _DATE.fullmatch(raw_to) else today
        except ValueError:
            first = None
        if first is None:
            problem = "Please give the dates as YYYY-MM-DD."
        elif last < first:
            problem = "The end date is before the start date."
        elif (last - first).days >= LONGEST:
            problem = f"A period may cover at most {LONGEST} days."
        else:
            return Period(_midnight(first, zone), _midnight(last + timedelta(days=1), zone), "dates", first, last)
    key = args.get("period", "7d") if args.get("period", "7d") in PERIODS else "7d"
    days = PERIODS[key][1]
    first = today - timedelta(days=days - 1)
    return Period(_midnight(first, zone), _midnight(today + timedelta(days=1), zone), key, first, today, problem)


def load_cases(session: Session, start: datetime, end: datetime) -> list[CaseTimes]:
    rows = session.execute(
        select(Escalation.id, Escalation.created_at, Escalation.level, Escalation.disposition, Escalation.status,
               Escalation.paged_at, Escalation.acknowledged_at, Escalation.first_contact_at,
               Escalation.first_contact_via, Escalation.resolved_at, Conversation.channel)
        .outerjoin(Conversation, Conversation.id == Escalation.conversation_id)
        .where(Escalation.created_at >= start, Escalation.created_at < end).order_by(Escalation.id))
    return [CaseTimes(id=r.id, opened=r.created_at, level=r.level, disposition=r.disposition,
                      channel=r.channel or "none", status=r.status, paged_at=r.paged_at,
                      acknowledged_at=r.acknowledged_at, first_contact_at=r.first_contact_at,
                      first_contact_via=r.first_contact_via, resolved_at=r.resolved_at) for r in rows]


def _report() -> tuple[Report, Period, ZoneInfo]:
    settings = svc().settings
    zone, now = ZoneInfo(settings.clinic_timezone), svc().clock()
    chosen = period_of(request.args, now, zone)
    targets = Targets(settings.target_ack_minutes_emergency, settings.target_contact_minutes_callback)
    with svc().factory() as session:
        cases = load_cases(session, chosen.start, chosen.end)
    return report(cases, targets, now, chosen.start, chosen.end, zone), chosen, zone


@bp.get("/")
@login_required
def page() -> Any:
    found, chosen, _ = _report()
    with svc().factory() as session:  # did the advice hold up (item 4): advice given in the period
        held = held_up_between(session, svc().flows, chosen.start, chosen.end, svc().clock())
    return render_template("service_levels/page.html", report=found, held=held, period=chosen, periods=PERIODS,
                           level_words=level_words, disposition_words=DISPOSITION_WORDS, minutes=_minutes)


@bp.get("/daily.svg")
@login_required
def daily_svg() -> Any:
    found, _, _ = _report()
    return Response(plots.daily_volume(found.daily, found.levels), mimetype="image/svg+xml")


@bp.get("/contact.svg")
@login_required
def contact_svg() -> Any:
    found, _, _ = _report()
    return Response(plots.contact_distribution(found.contact_histogram), mimetype="image/svg+xml")


CSV_COLUMNS = ("case", "opened", "level", "disposition", "channel", "status", "paged", "acknowledged", "first_contact",
               "first_contact_via", "resolved", "minutes_to_acknowledge", "minutes_to_first_contact", "target",
               "target_minutes", "target_result")


@bp.get("/cases.csv")
@login_required
def cases_csv() -> Any:
    """The page's cases, one row each, with the times and the verdict the page's figures come from."""
    found, chosen, zone = _report()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for case in found.cases:
        judged = found.verdicts.get(case.id)
        writer.writerow([
            case.id, _iso(case.opened, zone), case.level, case.disposition, case.channel, case.status,
            _iso(case.paged_at, zone), _iso(case.acknowledged_at, zone), _iso(case.first_contact_at, zone),
            case.first_contact_via or "", _iso(case.resolved_at, zone), _number(case.minutes_to_ack),
            _number(case.minutes_to_contact), judged.measure if judged else "",
            f"{judged.target:g}" if judged else "", judged.state if judged else ""])
    audit("export_service_levels", detail=f"{chosen.first}..{chosen.last}: {len(found.cases)} cases")
    name = f"service-levels-{chosen.first}-{chosen.last}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _iso(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds") if value else ""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _minutes(value: float | None) -> str:
    return "—" if value is None else minutes_words(value)
