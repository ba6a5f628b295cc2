"""`flask audit verify [--since DATE | --from-id N]`: check the tamper-evident chain over the audit trail and the
ledger (docs/security.md "Tamper-evident chain"); nightly from cron (README)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from cm_tracker.services.usecases import chain

audit_cli = AppGroup("audit", help="The audit trail: check its tamper-evident chain and the ledger's.")


@audit_cli.command("verify")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Check only the rows written since this clinic day (YYYY-MM-DD), from where each lane stood.")
@click.option("--from-id", type=click.IntRange(min=1), help="Check only the rows from this id on, in each table.")
def verify_command(since: datetime | None, from_id: int | None) -> None:
    """Recompute every row's link; exit 1 naming the first row changed, removed or inserted outside cm-tracker."""
    if since is not None and from_id is not None:
        raise click.UsageError("Give --since or --from-id, not both.")
    report = chain.verify(from_id=from_id, since=since.date() if since is not None else None,
                          progress=lambda table, rows: click.echo(f"{table}: {rows} rows checked", err=True))
    if report.is_intact:
        click.echo(f"Checked {report.audit.rows} audit rows and {report.ledger.rows} ledger rows: the chain is intact.")
        return
    for found in report.first_breaks:
        click.echo(str(found))
    click.echo(f"Checked {report.audit.rows} audit rows and {report.ledger.rows} ledger rows: the chain is BROKEN.",
               err=True)
    raise SystemExit(1)
