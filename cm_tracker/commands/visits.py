"""`flask visits close-day [DATE]`: the nightly day-closing job (safe to run from cron, and to run twice)."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask.cli import AppGroup

from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.usecases.visits import close_day

visits_cli = AppGroup("visits", help="Scheduled visits: close a finished clinic day.")


@visits_cli.command("close-day")
@click.argument("day", required=False, type=click.DateTime(formats=["%Y-%m-%d"]))
def close_day_command(day: object | None) -> None:
    """Mark every unrecorded visit of DAY (YYYY-MM-DD; default yesterday) missed, or excused when an excuse or a
    clinic closure covers it. A second run finds nothing left to do."""
    on: date = day.date() if day is not None else clinic_today() - timedelta(days=1)  # type: ignore[attr-defined]
    try:
        done = close_day(on)
    except ValidationFailed as exc:
        click.echo(f"close-day {on.isoformat()}: {' '.join(exc.fields.values()) or exc.message}", err=True)
        raise SystemExit(1) from exc
    for error in done.errors:
        click.echo(error, err=True)
    click.echo(done.summary)
    if done.errors:
        raise SystemExit(1)
