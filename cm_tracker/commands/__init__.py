"""Flask commands, one module per group; `register` adds every group to the app."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from cm_tracker.commands import database  # noqa: F401  (adds `db grant-runtime` to Flask-Migrate's group)
    from cm_tracker.commands.audit import audit_cli
    from cm_tracker.commands.backup import backup_cli
    from cm_tracker.commands.demo import demo_cli
    from cm_tracker.commands.labs import labs_cli
    from cm_tracker.commands.scale import reports_cli  # also adds `demo scale`
    from cm_tracker.commands.users import users_cli
    from cm_tracker.commands.visits import visits_cli

    for group in (users_cli, demo_cli, visits_cli, reports_cli, labs_cli, backup_cli, audit_cli):
        app.cli.add_command(group)
