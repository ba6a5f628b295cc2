"""`flask demo scale`: a large synthetic history for load tests; `flask reports rebuild`: refill the report cache."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from cm_tracker.commands.demo import demo_cli

reports_cli = AppGroup("reports", help="Manager reports.")


@demo_cli.command("scale")
@click.option("--patients", default=10_000, show_default=True, type=click.IntRange(1, 200_000),
              help="How many patients to add.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the random history (and of the names).")
def scale_command(patients: int, seed: int) -> None:
    """Add PATIENTS patients with up to 24 weeks of history across three programmes, in bulk."""
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.tooling.scale import build_scale

    began = time.perf_counter()
    with click.progressbar(length=patients, label="Building patients", show_eta=True, show_pos=True) as bar:
        try:
            result = build_scale(patients, seed=seed, today=clinic_today(), progress=bar.update)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Added {result.patients:,} patients in {time.perf_counter() - began:.1f} s:")
    for table, n in sorted(result.counts.items()):
        click.echo(f"  {table:<20} {n:>10,}")


@reports_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the report cache (event outcomes) of every enrolment, e.g. after an upgrade."""
    from cm_tracker.services.usecases.report_cache import rebuild_all

    click.echo(f"Rebuilt the report cache of {rebuild_all():,} enrolments.")
