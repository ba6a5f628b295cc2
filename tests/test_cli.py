"""Command-line tools: creating accounts from standard input (the demo clinic's command: tests/test_demo.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from helpers import PASSWORD


def test_users_create_reads_the_password_from_standard_input(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import Role, User
    from cm_tracker.services.core.passwords import verify_password

    result = app.test_cli_runner().invoke(args=["users", "create", "Nadia", "--role", "manager"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "nadia"))
    assert user.role == Role.MANAGER and verify_password(user.password_hash, PASSWORD)


def test_users_create_explains_a_refused_password(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    result = app.test_cli_runner().invoke(args=["users", "create", "nadia", "--role", "admin"], input="short\n")
    assert result.exit_code == 1
    assert "password: Use at least 8 characters." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
