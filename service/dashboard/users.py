"""`flask --app service users ...`: dashboard accounts. Passwords are prompted (or read from stdin), never
taken as arguments, and stored only as scrypt hashes. Disabling an account, changing its password or
resetting its two-factor ends its sessions at once, everywhere."""

from __future__ import annotations

import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..db import transaction
from ..models import AuditLog, User
from . import sessions, twofactor
from .auth import ROLES, hash_password, password_problem

users_cli = AppGroup("users", help="Dashboard accounts (nurses, admins).")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    return password


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="nurse, or admin (may also see the audit "
              "log and act on any case)")
@click.option("--name", default="", help="Name shown to patients in relayed messages, e.g. 'Nurse Avery'. The exact "
              "name of a roster nurse links the account to that nurse's phone. Default: the username.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
def create_user(username: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a dashboard account."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise click.ClickException("the username must be 2-64 characters: lower-case letters, digits, . _ -")
    svc = current_app.extensions["triage"]
    with svc.factory() as session:
        if session.scalars(select(User).where(User.username == username)).first() is not None:
            raise click.ClickException(f"there is already a user {username!r}")
    password = _read_password(password_stdin)
    name = " ".join(name.split())[:128] or username
    with transaction(svc.factory) as session:
        session.add(User(username=username, name=name, password_hash=hash_password(password), role=role,
                         active=True, created_at=svc.clock()))
    nurse = svc.roster.nurse_by_name(name)
    linked = f"; linked to roster nurse {nurse.name}" if nurse else ""
    click.echo(f"created {role} {username} ({name}){linked}")


@users_cli.command("list")
def list_users() -> None:
    """Every account, with role and state."""
    svc = current_app.extensions["triage"]
    with svc.factory() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "active" if user.active else "disabled"
            second = "2fa:on" if user.totp_enabled else "2fa:off"
            click.echo(f"{user.username}\t{user.role}\t{state}\t{user.name}\t{second}")


def _update(username: str, ends_sessions: str | None = None, **values: object) -> int:
    """Change an account; with `ends_sessions` (the reason), end its sessions in the same transaction.
    Returns how many sessions ended."""
    svc = current_app.extensions["triage"]
    now = svc.clock()
    with transaction(svc.factory) as session:
        user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
        if user is None:
            raise click.ClickException(f"there is no user {username!r}")
        for key, value in values.items():
            setattr(user, key, value)
        if ends_sessions is None:
            return 0
        if ends_sessions == "2fa_reset":
            twofactor.reset(session, user.id)
        ended = sessions.end_all(session, user.id, now, ends_sessions)
        session.add(AuditLog(at=now, username="(cli)", action=ends_sessions if ends_sessions == "2fa_reset"
                             else "end_sessions", detail=f"{user.username}: {ends_sessions}, {ended} session(s)"))
        return ended


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
def set_password(username: str, password_stdin: bool) -> None:
    """Change a password (this also ends the user's open sessions)."""
    ended = _update(username, "password", password_hash=hash_password(_read_password(password_stdin)))
    click.echo(f"password changed for {username}; {ended} session(s) ended")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account and end its sessions everywhere, now."""
    ended = _update(username, "disabled", active=False)
    click.echo(f"disabled {username}; {ended} session(s) ended")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    _update(username, active=True)
    click.echo(f"enabled {username}")


@users_cli.command("sessions")
@click.argument("username")
def list_sessions(username: str) -> None:
    """The account's live dashboard sessions: id, signed in, last activity, stage, address, browser."""
    svc = current_app.extensions["triage"]
    with svc.factory() as session:
        user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
        if user is None:
            raise click.ClickException(f"there is no user {username!r}")
        live = sessions.live_sessions(session, svc.settings, user.id, svc.clock())
    for row in live:
        click.echo(f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M}Z\t{row.last_active_at:%Y-%m-%d %H:%M}Z\t"
                   f"{row.stage}\t{row.address}\t{row.user_agent[:60]}")
    click.echo(f"{len(live)} live session(s) for {user.username}")


@users_cli.command("end-sessions")
@click.argument("username")
def end_sessions(username: str) -> None:
    """End every session of the account, everywhere (the account stays enabled)."""
    click.echo(f"{_update(username, 'admin')} session(s) ended for {username}")


@users_cli.command("reset-2fa")
@click.argument("username")
def reset_2fa(username: str) -> None:
    """Forget the account's authenticator and recovery codes (a lost phone) and end its sessions; the
    account enrols again at its next sign-in if two-factor is required for it."""
    ended = _update(username, "2fa_reset")
    click.echo(f"two-factor reset for {username}; {ended} session(s) ended")
