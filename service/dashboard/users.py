"""`flask --app service users ...`: dashboard accounts. Passwords are prompted (or read from stdin), never
taken as arguments, and stored only as scrypt hashes."""

from __future__ import annotations

import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..db import transaction
from ..models import User
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
            click.echo(f"{user.username}\t{user.role}\t{state}\t{user.name}")


def _update(username: str, **values: object) -> None:
    svc = current_app.extensions["triage"]
    with transaction(svc.factory) as session:
        user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
        if user is None:
            raise click.ClickException(f"there is no user {username!r}")
        for key, value in values.items():
            setattr(user, key, value)


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
def set_password(username: str, password_stdin: bool) -> None:
    """Change a password (this also ends the user's open sessions)."""
    _update(username, password_hash=hash_password(_read_password(password_stdin)))
    click.echo(f"password changed for {username}")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account; its open sessions end at their next request."""
    _update(username, active=False)
    click.echo(f"disabled {username}")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    _update(username, active=True)
    click.echo(f"enabled {username}")
