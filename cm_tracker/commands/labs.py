"""`flask labs listen`: the MLLP listener for HL7 v2 results; `flask labs import FILE...`: lab files of any of the
three formats (docs/labs.md)."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from cm_tracker import logs
from cm_tracker.labs.framing import MAX_FRAME_BYTES
from cm_tracker.labs.observations import LabParseError
from cm_tracker.models import LabAction
from cm_tracker.services.core.errors import ServiceError

labs_cli = AppGroup("labs", help="Lab results: the MLLP listener and file imports.")
log = logging.getLogger("cm_tracker.labs")


@labs_cli.command("listen")
@click.option("--port", default=2575, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; 0.0.0.0 for every interface (MLLP has no authentication: firewall it).")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Messages applied at once (each in its own database transaction).")
def listen_command(port: int, host: str, workers: int) -> None:
    """Accept HL7 v2 ORU^R01 messages over MLLP and answer each with an ACK, until SIGTERM."""
    from cm_tracker.mllp import Listener

    _log_to_stderr()
    try:
        Listener(current_app._get_current_object(), host, port, workers=workers, limit=MAX_FRAME_BYTES).run()
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or logs.class_name(exc)}") from exc


@labs_cli.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
def import_command(files: tuple[Path, ...]) -> None:
    """Apply lab result FILES (FHIR JSON, HL7 v2 ER7 or CSV, told apart by name and content), each in its own
    transaction. Exits with 1 if any file was refused; the others are applied all the same."""
    summaries: list[str] = []
    refused = 0
    with click.progressbar(files, label="Importing lab files", show_pos=True,
                           item_show_func=lambda p: p.name if p else None) as bar:
        for path in bar:
            line, ok = _import_one(path)
            summaries.append(line)
            refused += not ok
    for line in summaries:
        click.echo(line)
    if refused:
        click.echo(f"{refused} of {len(files)} files refused: nothing of them was applied.", err=True)
        sys.exit(1)


def _import_one(path: Path) -> tuple[str, bool]:
    """One file through the use case: (its summary line, whether it was read)."""
    from cm_tracker.services.usecases.lab_results import format_of, receive

    body = path.read_bytes()
    try:
        imported = receive(body, format_of(None, body, path.name), sender=None, source=f"file {path.name}"[:200])
    except LabParseError as error:
        return f"{path}: refused: {error.where}: {error.message}", False
    except ServiceError as error:
        return f"{path}: refused: {error.message}", False
    except Exception as exc:  # one broken file must not stop the others; the log keeps the traceback
        error_id = logs.new_error_id()
        log.error("Lab file not imported (error id %s): %s", error_id, logs.class_name(exc), exc_info=exc)
        return f"{path}: refused: an error in cm-tracker (error id {error_id})", False
    counts = Counter(str(r.action) for r in imported.results)
    parts = ", ".join(f"{counts[a]} {a}" for a in LabAction)
    return f"{path}: {parts}, {imported.ignored} ignored (message {imported.message_id})", True


def _log_to_stderr() -> None:
    """The listener's one line per message goes to standard error (the journal under systemd)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("cm_tracker").setLevel(logging.INFO)
