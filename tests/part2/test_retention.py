"""Retention (docs/part2.md "Retention"): consents, revocations, revocation requests, disclosures, disclosure packets
and the audit trail are kept at least six years, so the product has no path that deletes them. Each table is
append-only in the metadata (the ORM refuses UPDATE and DELETE, `flask db grant-runtime` grants the runtime role only
SELECT and INSERT, the migrations add the triggers: tests/test_migrations.py, tests/security/test_append_only_role.py),
and no code of the product, flask commands included, deletes from one of them."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cm_tracker"
KEPT_MODELS = ("Consent", "ConsentRevocation", "ConsentRevocationRequest", "Disclosure", "DisclosurePacket",
               "AuditEvent")
KEPT_TABLES = ("consents", "consent_revocations", "consent_revocation_requests", "disclosures", "disclosure_packets",
               "audit_events")
# SQL written as text that removes rows or tables: DELETE FROM t, TRUNCATE [TABLE] t, DROP TABLE t.
REMOVING_SQL = re.compile(r"\b(?:DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?)\s+(?:ONLY\s+)?"
                          r"[\"'`]?(?:public\.)?(" + "|".join(KEPT_TABLES) + r")\b", re.IGNORECASE)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_kept_table_is_append_only_in_the_metadata(app):
    from cm_tracker import models
    from cm_tracker.extensions import db

    assert {getattr(models, name).__tablename__ for name in KEPT_MODELS} == set(KEPT_TABLES)
    for table in KEPT_TABLES:
        assert db.metadata.tables[table].info.get("append_only") is True, table


def test_the_runtime_role_may_only_read_and_insert_the_append_only_tables():
    script = (PACKAGE / "data" / "postgres_roles.sql").read_text(encoding="utf-8")
    grants = [line for line in script.splitlines() if "{append_only}" in line and not line.startswith("--")]
    assert grants == ["GRANT SELECT, INSERT ON {append_only} TO {role};"]


def _written(personas) -> list[object]:
    """One row of each kept table, for Pat, each written after the rows it names."""
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AuditEvent,
        AuditOutcome,
        Consent,
        ConsentRevocation,
        ConsentRevocationRequest,
        Disclosure,
        DisclosurePacket,
        RecipientKind,
    )

    def consent(information: str) -> Consent:
        return Consent(patient_id=personas.patient, discloser="The clinic", information=information,
                       recipient_kind=RecipientKind.NAMED, recipient="Dr Who", purpose="Care",
                       signed_on=date(2026, 11, 2), expires_on=date(2027, 11, 2))

    first, second = consent("Results"), consent("Attendance")
    audit = AuditEvent(action="report.export", outcome=AuditOutcome.SUCCESS, patient_id=personas.patient)
    db.session.add_all([first, second, audit])
    db.session.flush()
    disclosure = Disclosure(patient_id=personas.patient, consent_id=first.id, recipient="Dr Who",
                            description="Results", disclosed_on=date(2026, 11, 3))
    named = [ConsentRevocation(consent_id=second.id, revoked_on=date(2026, 11, 10)),
             ConsentRevocationRequest(consent_id=first.id, patient_id=personas.patient,
                                      requested_on=date(2026, 11, 9)), disclosure]
    db.session.add_all(named)
    db.session.flush()
    packet = DisclosurePacket(disclosure_id=disclosure.id, period_start=date(2026, 11, 2),
                              period_end=date(2026, 11, 3), sections="results", language="en", content="{}",
                              content_digest="0" * 64)
    db.session.add(packet)
    db.session.commit()
    return [first, second, audit, *named, packet]


@pytest.mark.parametrize("change", ["delete", "update"])
def test_the_orm_refuses_to_change_or_delete_any_kept_row(app, personas, change):
    from cm_tracker.extensions import db
    from cm_tracker.models.types import AppendOnlyError

    with app.app_context():
        rows = _written(personas)
        assert sorted({type(r).__tablename__ for r in rows}) == sorted(KEPT_TABLES)
        for row in rows:
            if change == "delete":
                db.session.delete(row)
            else:
                setattr(row, "action" if type(row).__name__ == "AuditEvent" else "created_at", None)
            with pytest.raises(AppendOnlyError):
                db.session.flush()
            db.session.rollback()


def _removals(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls that delete rows of a kept model: delete(Model), Model.__table__.delete(), query(Model)...delete(),
    and a delete() of anything the code does not name (a table looked up at run time could be a kept one)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name != "delete":
            continue
        if node.args and (isinstance(node.args[0], ast.JoinedStr) or (
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))):
            continue  # a route decorator: @bp.delete("/path")
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if receiver is not None and ast.unparse(receiver) in ("db.session", "session") and node.args:
            continue  # session.delete(obj): the ORM refuses it for a kept row (the test above)
        target = node.args[0] if node.args else receiver
        names = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target is not None else set()
        if names & set(KEPT_MODELS) or not (isinstance(target, ast.Name) and target.id[:1].isupper()):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_code_of_the_product_deletes_a_kept_row():
    offending = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offending += [f"{path.relative_to(PACKAGE)}:{line}: {code}" for line, code in _removals(tree)]
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and REMOVING_SQL.search(node.value):
                offending.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:80]!r}")
    assert offending == []


def test_the_scan_would_catch_a_purge():
    """The scan above is only as good as what it recognises: each of these would be reported."""
    purges = ["db.session.execute(delete(AuditEvent).where(AuditEvent.occurred_at < cutoff))",
              "db.session.execute(Consent.__table__.delete())",
              "db.session.query(Disclosure).filter_by(patient_id=1).delete()",
              "connection.execute(table.delete())",
              "connection.exec_driver_sql('DELETE FROM audit_events WHERE occurred_at < now()')",
              "op.execute('TRUNCATE TABLE consents')"]
    for code in purges:
        tree = ast.parse(code)
        texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        assert _removals(tree) or any(REMOVING_SQL.search(t) for t in texts), code
    assert _removals(ast.parse("db.session.execute(delete(ScheduledVisit).where(ScheduledVisit.id == 1))")) == []


def _commands(group, prefix: str = "") -> list[tuple[str, object]]:
    import click

    found = []
    for name, command in getattr(group, "commands", {}).items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append((prefix + name, command.callback))
    return found


def test_every_flask_command_of_the_product_is_in_the_scanned_code(app):
    """So the scan covers each command cm-tracker adds (`users`, `demo`, `reports`, `labs`, `db grant-runtime`, ...):
    none deletes from a kept table. Flask-Migrate's own `db downgrade` changes the schema, run by the tables' owner;
    docs/part2.md says never to take a database holding records below the Part 2 revisions."""
    import inspect

    ours = []
    for name, callback in _commands(app.cli):
        module = inspect.getmodule(inspect.unwrap(callback))
        source = Path(inspect.getsourcefile(module)).resolve() if module else None
        if source and PACKAGE in source.parents:
            ours.append(name)
            assert source in _modules(), name
    assert {"db grant-runtime", "users create", "reports rebuild"} <= set(ours), ours
