"""`flask demo ...`: the demo clinic."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="The demo clinic.")


@demo_cli.command("load")
@click.option("--seed", default=2026, show_default=True, help="Seed of the demo's random history.")
def load_demo_command(seed: int) -> None:
    """Build a realistic demo clinic in an empty database, its history ending yesterday at the clinic
    (CLINIC_TIMEZONE), and print its sign-ins."""
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.tooling.demo import load_demo

    try:
        logins = load_demo(clinic_today(), seed=seed)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    required = current_app.config["MFA_REQUIRED_ROLES"]
    click.echo("Demo clinic loaded. Sign in at http://127.0.0.1:5000 with:")
    for login in logins:
        first = "; sets up a second factor (authenticator app) at first sign-in" if login.role in required else ""
        click.echo(f"  {login.role:<10} {login.username:<10} password: {login.password:<20} ({login.note}{first})")
    if required:
        click.echo(f"Roles that must set up a second factor (MFA_REQUIRED_ROLES): {', '.join(sorted(required))}. "
                   "Keep the app's codes for the next sign-in, or set MFA_REQUIRED_ROLES= (empty) to try without.")
    else:
        click.echo("A second factor is optional here (MFA_REQUIRED_ROLES is empty; a clinic's default makes admins "
                   "and managers set one up): staff may set one up from Change password > Second factor.")
