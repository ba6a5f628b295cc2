"""No health data in the logs (issue 11, item 1): an unexpected error is logged under an error id with its route and
the classes of its exceptions, never a bound parameter, a query string or an exception's message; the person who met
it sees the same id. Each 500 here is provoked on purpose, by a query that raises carrying Pat's name and record
number in its statement, its parameters and its message."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError

from cm_tracker import logs
from cm_tracker.extensions import db

from helpers import api_token, sign_in

NAME, RECORD = "Pat Patient", "MRN-001"  # the personas' patient
# Names and values in the statement itself, as a statement compiled with its literals would carry them.
STATEMENT = f"SELECT no_such_column FROM patients WHERE display_name = '{NAME}' AND record_number = :record"


def _database_error() -> None:
    """A real error of the test's database (SQLite or PostgreSQL), through the app's engine."""
    db.session.execute(text(STATEMENT), {"record": RECORD, "q": NAME})


def _driver_error() -> None:
    """What a driver says when it quotes the value (PostgreSQL: `invalid input syntax`), on an engine that would
    show its parameters: the log filter alone must keep them out."""
    orig = Exception(f'invalid input syntax for type integer: "{NAME}" (record {RECORD})')
    raise DBAPIError(STATEMENT, {"record": RECORD, "q": NAME}, orig, hide_parameters=False)


def _statement_error() -> None:
    raise StatementError(f"A value could not be bound: {NAME}", STATEMENT, {"record": RECORD}, None)


def _value_error() -> None:
    int(f"{NAME} {RECORD}")


TRIGGERS: dict[str, Callable[[], None]] = {"database": _database_error, "driver": _driver_error,
                                           "statement": _statement_error, "python": _value_error}


def _failing(trigger: Callable[[], None]) -> Callable[..., object]:
    def failing(*_args: object, **_kwargs: object) -> object:
        trigger()
        raise AssertionError("the trigger did not raise")

    return failing


def _logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str] | None = None) -> str:
    """Everything the logs received: the formatted lines with their tracebacks, each record whole, and stderr."""
    records = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}\n{r.__dict__}" for r in caplog.records)
    return f"{caplog.text}\n{records}\n{capsys.readouterr().err if capsys else ''}"


def _error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if hasattr(r, "error_id")]


def _assert_no_health_data(logged: str) -> None:
    assert NAME not in logged
    assert RECORD not in logged
    assert "Pat+Patient" not in logged and "Pat%20Patient" not in logged and "q=" not in logged


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_500_on_a_page_logs_its_error_id_route_and_class_and_no_health_data(
        client, personas, monkeypatch, caplog, capsys, trigger):
    monkeypatch.setattr("cm_tracker.services.queries.patient_record.latest_entries", _failing(TRIGGERS[trigger]))
    sign_in(client, "cora")
    caplog.set_level(logging.DEBUG)
    response = client.get(f"/staff/patients/{personas.patient}?q=Pat+Patient")
    assert response.status_code == 500
    shown = re.search(r'<code class="error-id">([0-9a-f]{8})</code>', response.get_data(as_text=True))
    assert shown is not None
    logged = _logged(caplog, capsys)
    _assert_no_health_data(logged)
    [record] = _error_records(caplog)
    assert record.error_id == shown.group(1)
    assert (f"Unhandled error (error id {shown.group(1)}) on GET /staff/patients/<int:patient_id>, endpoint "
            "staff.patient: ") in logged
    assert "Traceback (most recent call last)" in logged and "in failing" in logged  # the frames are kept
    assert logs.WITHHELD in logged


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_500_in_the_api_answers_its_error_id_and_logs_no_health_data(
        client, personas, monkeypatch, caplog, capsys, trigger):
    headers = api_token(client, "cora")
    monkeypatch.setattr("cm_tracker.services.usecases.patients.search_patients", _failing(TRIGGERS[trigger]))
    caplog.set_level(logging.DEBUG)
    response = client.get("/api/v1/patients?q=Pat%20Patient", headers=headers)
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "internal_error"
    assert re.fullmatch(r"[0-9a-f]{8}", error["error_id"])
    logged = _logged(caplog, capsys)
    _assert_no_health_data(logged)
    [record] = _error_records(caplog)
    assert record.error_id == error["error_id"]
    assert f"(error id {error['error_id']}) on GET /api/v1/patients, endpoint api.list_patients: " in logged


def test_the_log_names_the_class_of_every_exception_in_the_chain(client, personas, monkeypatch, caplog):
    headers = api_token(client, "cora")
    monkeypatch.setattr("cm_tracker.services.usecases.patients.search_patients", _failing(_driver_error))
    caplog.set_level(logging.ERROR)
    client.get("/api/v1/patients?q=Pat%20Patient", headers=headers)
    assert "sqlalchemy.exc.DBAPIError: [message withheld" in caplog.text


def test_every_error_gets_its_own_id(client, personas, monkeypatch):
    headers = api_token(client, "cora")
    monkeypatch.setattr("cm_tracker.services.usecases.patients.search_patients", _failing(_value_error))
    ids = {client.get("/api/v1/patients", headers=headers).get_json()["error"]["error_id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_read_whose_audit_row_cannot_be_written_answers_and_logs_one_error_id(
        client, personas, monkeypatch, caplog, capsys):
    headers = api_token(client, "cora")
    orig = Exception(f"Key (display_name)=({NAME}) already exists")
    refused = DBAPIError(STATEMENT, {"record": RECORD}, orig, hide_parameters=False)
    monkeypatch.setattr("cm_tracker.services.usecases.access_log.commit_request", _failing(lambda: _raise(refused)))
    caplog.set_level(logging.DEBUG)
    response = client.get(f"/api/v1/patients/{personas.patient}", headers=headers)
    assert response.status_code == 500
    error_id = response.get_json()["error"]["error_id"]
    logged = _logged(caplog, capsys)
    _assert_no_health_data(logged)
    assert [r.error_id for r in _error_records(caplog)] == [error_id]


def _raise(exc: BaseException) -> None:
    raise exc


def test_when_the_error_page_itself_fails_flasks_500_gets_an_id_too(app, client, personas, monkeypatch, caplog):
    """Flask then logs the exception itself and answers an InternalServerError, which our handler shows with an id."""
    from cm_tracker import errors

    render = errors.render_template
    calls: list[str] = []

    def failing_once(*args: object, **kwargs: object) -> str:
        calls.append("render")
        if len(calls) == 1:
            _value_error()
        return render(*args, **kwargs)

    monkeypatch.setattr("cm_tracker.services.queries.patient_record.latest_entries", _failing(_driver_error))
    monkeypatch.setattr(errors, "render_template", failing_once)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production (TESTING propagates)
    sign_in(client, "cora")
    caplog.set_level(logging.DEBUG)
    response = client.get(f"/staff/patients/{personas.patient}?q=Pat+Patient")
    assert response.status_code == 500
    shown = re.search(r'<code class="error-id">([0-9a-f]{8})</code>', response.get_data(as_text=True))
    assert shown is not None and _error_records(caplog)[-1].error_id == shown.group(1)
    assert f"Exception on /staff/patients/{personas.patient} [GET]" in caplog.text  # Flask's own line
    _assert_no_health_data(_logged(caplog))


def test_the_engine_hides_bound_parameters(app, personas):
    with app.app_context():
        assert db.engine.hide_parameters is True
        with pytest.raises(SQLAlchemyError) as raised:
            _database_error()
        db.session.rollback()
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(raised.value)
    assert RECORD not in str(raised.value)


def test_flasks_own_exception_log_goes_through_the_same_filter(app, caplog):
    caplog.set_level(logging.DEBUG)
    with app.test_request_context("/api/v1/patients?q=Pat+Patient"):
        try:
            _driver_error()
        except DBAPIError:
            app.log_exception(sys.exc_info())  # what Flask logs when an error handler itself fails
    assert "Exception on /api/v1/patients [GET]" in caplog.text
    _assert_no_health_data(_logged(caplog))


def test_werkzeugs_request_line_loses_its_query_string_and_its_tracebacks_their_messages(caplog):
    caplog.set_level(logging.DEBUG)
    werkzeug = logging.getLogger("werkzeug")
    # The development server's request line, as werkzeug.serving.WSGIRequestHandler.log_request writes it.
    werkzeug.info('127.0.0.1 - - [01/Dec/2026 10:00:00] "%s" %s %s',
                  "GET /api/v1/patients?q=Pat%20Patient HTTP/1.1", "500", "-")
    try:
        _value_error()
    except ValueError:
        werkzeug.exception("Error on request")
    assert '"GET /api/v1/patients HTTP/1.1" 500 -' in caplog.text
    assert "ValueError: [message withheld" in caplog.text
    _assert_no_health_data(_logged(caplog))


def test_any_logger_withholds_exception_messages(caplog):
    caplog.set_level(logging.DEBUG)
    try:
        _driver_error()
    except DBAPIError:
        logging.getLogger("cm_tracker.services.queries.reports.exports").exception("CSV export stopped")
        logging.getLogger("gunicorn.error").exception("Error handling request")
    _assert_no_health_data(_logged(caplog))
    assert caplog.text.count("sqlalchemy.exc.DBAPIError: [message withheld") == 2


def test_a_message_that_speaks_only_of_code_is_kept(caplog):
    caplog.set_level(logging.DEBUG)
    try:
        None.no_such_attribute  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError:
        logging.getLogger("cm_tracker").exception("Unhandled error")
    assert "AttributeError: 'NoneType' object has no attribute 'no_such_attribute'" in caplog.text


def test_the_error_page_shows_the_reference_in_spanish(app):
    from flask import render_template

    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        html = render_template("errors/error.html", status=500, message="", error_id="0a1b2c3d")
    assert 'Si pides ayuda, indica esta referencia: <code class="error-id">0a1b2c3d</code>' in html

