"""The MLLP listener end to end: `flask labs listen` as a real process on a real socket, against the tests' own
database (SQLite file, or PostgreSQL as the runtime role), answering ORU^R01 messages with ACKs; and the framer and
the ACK choice it relies on, without a socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from cm_tracker.labs.acks import AckCode
from cm_tracker.labs.framing import END_BLOCK, MAX_FRAME_BYTES, START_BLOCK, Frame, Framer, Problem
from cm_tracker.mllp import reply_for
from cm_tracker.models import LabAction

ROOT = Path(__file__).resolve().parents[2]
ORU = (Path(__file__).parent / "data" / "oru_r01.hl7").read_bytes()


@dataclass
class Running:
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(frozen=True)
class Ack:
    code: str
    their_id: str
    note: str
    control_id: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(database_url: str, log: Path) -> Running:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "CM_ENV": "development"}
    env.pop("MIGRATION_DATABASE_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "labs", "listen", "--port",
                                    str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Running(port, process, log)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the listener did not start:\n{log.read_text()}")
            time.sleep(0.1)


def _stop(running: Running) -> int:
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
    try:
        return running.process.wait(30)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait(10)
        raise


@pytest.fixture(scope="module")
def listener(app, database_url, tmp_path_factory) -> Iterator[Running]:
    """One listener for the module, on the database the test process seeds (each test's tables are emptied after
    it as usual; the listener keeps running)."""
    running = _start(database_url, tmp_path_factory.mktemp("mllp") / "listener.log")
    yield running
    _stop(running)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def _framed(message: bytes) -> bytes:
    return START_BLOCK + message + END_BLOCK


def _read_ack(sock: socket.socket) -> Ack:
    data = b""
    while END_BLOCK not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before an ACK; got {data!r}")
        data += chunk
    assert data.startswith(START_BLOCK)
    segments = data[1:data.index(END_BLOCK)].decode().split("\r")
    msh, msa = segments[0].split("|"), segments[1].split("|")
    assert msh[8] == "ACK^R01^ACK" and msa[0] == "MSA"
    return Ack(msa[1], msa[2], msa[3], msh[9])


def _send(port: int, message: bytes) -> Ack:
    with _connect(port) as sock:
        sock.sendall(_framed(message))
        return _read_ack(sock)


def _message(record: str = "MRN-001", accession: str = "ACC-1001", control: str = "ACME-000123",
             second: int = 0) -> bytes:
    """The sample ORU^R01 with another patient, accession, control id or collection second (one patient's two
    specimens collected at the same instant would be held as a duplicate)."""
    return (ORU.replace(b"MRN-001", record.encode()).replace(b"ACC-1001", accession.encode())
            .replace(b"ACME-000123", control.encode()).replace(b"20261130083000", b"202611300830%02d" % second))


def _specimen(app, patient_id: int, accession: str):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    with app.app_context():
        found = db.session.scalar(select(Specimen).where(Specimen.patient_id == patient_id,
                                                         Specimen.accession == accession))
        return None if found is None else (found.id, {r.analyte: str(r.result) for r in found.results})


def _messages(app) -> list[tuple[int, str, str]]:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabMessage

    with app.app_context():
        return [(m.id, m.source, str(m.status)) for m in db.session.scalars(select(LabMessage).order_by(LabMessage.id))]


def test_an_oru_r01_is_applied_and_answered_aa_echoing_its_control_id(app, personas, listener):
    answer = _send(listener.port, ORU)
    assert (answer.code, answer.their_id) == ("AA", "ACME-000123")
    [(message_id, source, status)] = _messages(app)
    assert answer.control_id == f"CMT{message_id}"
    assert source.startswith("mllp 127.0.0.1:") and status == "applied"
    assert _specimen(app, personas.patient, "ACC-1001")[1] == {"cocaine": "positive", "methamphetamine": "negative"}


def test_the_log_has_one_line_per_message_with_counts_and_no_health_data(app, personas, listener):
    answer = _send(listener.port, _message(control="ACME-LOGGED"))
    deadline = time.monotonic() + 10
    while "for=ACME-LOGGED" not in listener.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    [line] = [line for line in listener.log.read_text().splitlines() if "for=ACME-LOGGED" in line]
    assert f"control_id={answer.control_id} ack=AA" in line and "created=1" in line and "held=0" in line
    assert not any(word in listener.log.read_text() for word in ("MRN-0", "ACC-1", "Patient", "POS", "Negative"))


def test_the_same_message_again_is_answered_aa_and_writes_nothing_new(app, personas, listener):
    first, again = _send(listener.port, ORU), _send(listener.port, ORU)
    assert (first.code, again.code) == ("AA", "AA") and first.control_id != again.control_id
    assert _specimen(app, personas.patient, "ACC-1001") is not None


def test_an_unknown_record_number_is_held_and_answered_ae(app, personas, listener):
    answer = _send(listener.port, _message(record="MRN-999", accession="ACC-2001", control="ACME-UNKNOWN"))
    assert (answer.code, answer.their_id) == ("AE", "ACME-UNKNOWN")
    assert answer.note.startswith("1 of 1 held for review")
    [(_, _, status)] = _messages(app)
    assert status == "held"


def test_garbage_in_a_frame_is_answered_ar_and_the_next_message_on_the_connection_aa(app, personas, listener):
    with _connect(listener.port) as sock:
        sock.sendall(_framed(b"this is not an HL7 message"))
        refused = _read_ack(sock)
        sock.sendall(_framed(ORU))
        applied = _read_ack(sock)
    assert refused.code == "AR" and refused.note.startswith("not read: line 1")
    assert (applied.code, applied.their_id) == ("AA", "ACME-000123")
    assert _specimen(app, personas.patient, "ACC-1001") is not None


def test_an_unreadable_segment_is_answered_ar_naming_it(app, personas, listener):
    answer = _send(listener.port, ORU.replace(b"||||||F\rNTE", b"||||||Q\rNTE"))
    assert (answer.code, answer.their_id) == ("AR", "ACME-000123")
    assert "OBX-11" in answer.note
    with app.app_context():  # the body is kept as a refused message, and the ACK names it
        from cm_tracker.extensions import db
        from cm_tracker.models import LabMessage

        refused = db.session.query(LabMessage).one()
        assert (str(refused.status), answer.control_id) == ("refused", f"CMT{refused.id}")
    assert _specimen(app, personas.patient, "ACC-1001") is None


def test_a_frame_without_its_start_is_answered_ar_and_bytes_between_frames_are_ignored(app, personas, listener):
    with _connect(listener.port) as sock:
        sock.sendall(b"MSH|junk" + END_BLOCK)
        refused = _read_ack(sock)
        sock.sendall(b"\r\n" + _framed(ORU) + b"\n")
        applied = _read_ack(sock)
    assert refused.code == "AR" and "no start block" in refused.note
    assert applied.code == "AA"


def test_two_senders_at_once_are_each_answered_and_one_half_sent_frame_holds_up_no_one(app, personas, listener):
    slow, fast = _message(control="ACME-SLOW"), _message("MRN-002", "ACC-1002", "ACME-FAST")
    with _connect(listener.port) as a, _connect(listener.port) as b:
        a.sendall(START_BLOCK + slow[:100])
        b.sendall(_framed(fast))
        fast_answer = _read_ack(b)
        a.sendall(slow[100:] + END_BLOCK)
        slow_answer = _read_ack(a)
    assert (fast_answer.code, fast_answer.their_id) == ("AA", "ACME-FAST")
    assert (slow_answer.code, slow_answer.their_id) == ("AA", "ACME-SLOW")
    assert _specimen(app, personas.other_patient, "ACC-1002") is not None


def test_many_senders_at_once_are_all_applied(app, personas, listener):
    answers: dict[int, Ack] = {}

    def send(n: int) -> None:
        answers[n] = _send(listener.port, _message(accession=f"ACC-3{n:03}", control=f"ACME-M{n}", second=n))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted((a.code, a.their_id) for a in answers.values()) == sorted(("AA", f"ACME-M{n}") for n in range(6))
    assert all(_specimen(app, personas.patient, f"ACC-3{n:03}") is not None for n in range(6))


def test_a_connection_dropped_mid_frame_applies_nothing_and_the_listener_serves_on(app, personas, listener):
    with _connect(listener.port) as sock:
        sock.sendall(START_BLOCK + ORU[:200])
    assert _send(listener.port, _message(accession="ACC-1003")).code == "AA"
    assert _specimen(app, personas.patient, "ACC-1001") is None
    assert len(_messages(app)) == 1


def test_a_frame_over_10_mb_is_refused_ar_and_its_connection_closed(app, personas, listener):
    huge = ORU + b"\rNTE|2|L|" + b"x" * (MAX_FRAME_BYTES + 1)

    def send_all(sock: socket.socket) -> None:
        with suppress(OSError):  # the listener closes the connection once it has refused the frame
            sock.sendall(_framed(huge))

    with _connect(listener.port) as sock:
        sender = threading.Thread(target=send_all, args=(sock,))
        sender.start()
        answer = _read_ack(sock)
        sender.join(30)
        _assert_closed(sock)
    assert (answer.code, answer.their_id) == ("AR", "ACME-000123") and "over" in answer.note
    assert _messages(app) == []
    assert _send(listener.port, ORU).code == "AA"


def _assert_closed(sock: socket.socket) -> None:
    """The peer closed the connection: EOF, or a reset (it closed with the rest of the frame unread)."""
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass


def test_sigterm_stops_accepting_finishes_the_message_being_sent_and_exits_zero(app, personas, database_url,
                                                                                tmp_path):
    running = _start(database_url, tmp_path / "listener.log")
    try:
        idle, sending = _connect(running.port), _connect(running.port)
        sending.sendall(START_BLOCK + ORU[:300])
        time.sleep(0.3)  # the listener has read the first half
        running.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:  # new connections are refused once the signal is handled
            try:
                socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
            except ConnectionRefusedError:
                break
            assert time.monotonic() < deadline, "still accepting after SIGTERM"
            time.sleep(0.05)
        assert idle.recv(10) == b""  # an idle connection is closed at once
        sending.sendall(ORU[300:] + END_BLOCK)
        answer = _read_ack(sending)
        assert (answer.code, answer.their_id) == ("AA", "ACME-000123")
        assert running.process.wait(30) == 0
    finally:
        _stop(running)
    assert _specimen(app, personas.patient, "ACC-1001") is not None
    assert "MLLP listener stopped" in running.log.read_text()


# The framer and the choice of ACK, without a socket.

@pytest.mark.parametrize(("chunks", "expected"), [
    ([b"\x0bMSH|a\x1c\r"], [Frame(b"MSH|a", size=5)]),
    ([b"\x0bMSH", b"|a\x1c", b"\r"], [Frame(b"MSH|a", size=5)]),
    ([b"\r\n\x0bMSH|a\x1c\r\n\x0bMSH|b\x1c\r"], [Frame(b"MSH|a", size=5), Frame(b"MSH|b", size=5)]),
    ([b"junk\x1c\r"], [Frame(b"junk", Problem.NO_START, 4)]),
    ([b"noise\x0bMSH|a\x1c\r"], [Frame(b"", Problem.STRAY, 5), Frame(b"MSH|a", size=5)]),
    ([b"\x0bMSH|half\x0bMSH|b\x1c\r"], [Frame(b"", Problem.UNFINISHED, 8), Frame(b"MSH|b", size=5)]),
])  # fmt: skip
def test_the_framer_reads_frames_and_names_what_is_not_one(chunks, expected):
    framer = Framer()
    assert [frame for chunk in chunks for frame in framer.feed(chunk)] == expected
    assert not framer.mid_frame


@pytest.mark.parametrize("end", [b"", END_BLOCK], ids=["still coming", "ended in the same read"])
def test_the_framer_refuses_a_frame_over_its_limit_once_and_reads_nothing_after(end):
    framer = Framer(limit=10)
    [frame] = framer.feed(b"\x0bMSH|" + b"x" * 20 + end)
    assert (frame.problem, frame.size, frame.body[:4]) == (Problem.TOO_LARGE, 24, b"MSH|")
    assert framer.feed(b"\x1c\r\x0bMSH|a\x1c\r") == [] and framer.overflowed


def test_the_framer_knows_a_frame_is_half_received():
    framer = Framer()
    framer.feed(b"\x0bMSH|a")
    assert framer.mid_frame
    framer.feed(b"\x1c\r")
    assert not framer.mid_frame


def test_every_result_applied_is_aa_and_one_held_is_ae_with_its_reason():
    applied = reply_for(7, [(LabAction.CREATED, ""), (LabAction.UNCHANGED, ""), (LabAction.WITHDRAWN, "")])
    held = reply_for(8, [(LabAction.CREATED, ""), (LabAction.HELD, "unknown record number")], ignored=2)
    assert (applied.code, applied.control_id, applied.note) == (AckCode.APPLIED, "CMT7", "3 applied")
    assert (held.code, held.note) == (AckCode.ERROR, "1 of 2 held for review: unknown record number")
    assert held.summary == "created=1 completed=0 corrected=0 unchanged=0 withdrawn=0 held=1 ignored=2"
