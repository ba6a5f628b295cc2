"""`flask users ...`: accounts from the command line (the first admin of a new installation)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from cm_tracker.models import Role
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.usecases import accounts

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--display-name", default="", help="The name shown in the app (defaults to the username).")
@click.option("--patient-id", type=int, default=None, help="For a patient account: its patient record.")
def create_user_command(username: str, role: str, display_name: str, patient_id: int | None) -> None:
    """Create an account; the password is read from standard input when it is not a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(username=username, password=password, role=role, display_name=display_name,
                                    patient_id=patient_id)
    except ValidationFailed as exc:
        for field, message in exc.fields.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"Created {user.role} account {user.username} (id {user.id}).")
