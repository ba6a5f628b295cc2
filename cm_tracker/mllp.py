"""The MLLP listener (`flask --app wsgi labs listen`): HL7 v2 ORU^R01 messages over MLLP framing, each applied by
the lab-results use case like a body posted to /api/v1/lab-results, and answered with an ACK (docs/labs.md):
AA when every result was applied, AE when one was held for review or cm-tracker refused the message, AR when the
message (or its frame) could not be read.

One asyncio loop reads every connection; the use case, which talks to the database synchronously, runs in a small
pool of worker threads, each inside its own app context, so a slow commit never stalls the other senders. Messages of
one connection are answered in the order they came, one at a time, as MLLP senders expect.

On SIGTERM (or Ctrl-C) the listener stops accepting, closes idle connections, lets every message it is reading or
applying finish and be answered (for at most GRACE_SECONDS), and returns.

The log holds one line per message: the peer, our control id and the sender's, the ACK code and the count of each
action, never a record number, a result or a reason (cm_tracker/logs.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from flask import Flask

from cm_tracker import logs
from cm_tracker.labs.acks import AckCode, ack
from cm_tracker.labs.framing import END_BLOCK, MAX_FRAME_BYTES, START_BLOCK, Frame, Framer, Problem
from cm_tracker.labs.observations import LabParseError
from cm_tracker.models import LabAction, LabFormat
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.timeutil import utcnow

log = logging.getLogger("cm_tracker.mllp")
CONTENT_TYPE = "application/hl7-v2"
READ_BYTES = 64 * 1024
GRACE_SECONDS = 30.0  # how long a stop waits for messages in flight
STALL_SECONDS = 60.0  # a frame begun and not continued for this long is dropped with its connection
APPLIED = {LabAction.CREATED, LabAction.COMPLETED, LabAction.CORRECTED, LabAction.UNCHANGED, LabAction.WITHDRAWN}


@dataclass(frozen=True, slots=True)
class Reply:
    code: AckCode
    note: str  # for the sender, in MSA-3
    control_id: str
    summary: str  # for the log: counts and places, never content


@dataclass(eq=False)
class _Connection:
    task: asyncio.Task[None]
    busy: bool = False  # reading a frame, or applying one
    peer: str = ""


class Listener:
    def __init__(self, app: Flask, host: str, port: int, *, workers: int = 4,
                 limit: int = MAX_FRAME_BYTES) -> None:
        self.app, self.host, self.port, self.limit = app, host, port, limit
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mllp")
        self.stopping = False
        self._connections: set[_Connection] = set()

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        server = await asyncio.start_server(self._connection, self.host, self.port)
        log.info("MLLP listener on %s, messages up to %d bytes",
                 ", ".join(_address(s.getsockname()) for s in server.sockets), self.limit)
        try:
            await stop.wait()
        finally:
            await self._stop(server)

    async def _stop(self, server: asyncio.Server) -> None:
        server.close()  # no new connections from here on
        self.stopping = True
        for connection in list(self._connections):
            if not connection.busy:
                connection.task.cancel()
        pending = [c.task for c in self._connections]
        if pending:
            _, late = await asyncio.wait(pending, timeout=GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self.executor.shutdown(wait=True)  # a message being committed finishes even when its answer cannot be sent
        log.info("MLLP listener stopped")

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connection = _Connection(task, peer=_address(writer.get_extra_info("peername")))
        self._connections.add(connection)
        framer = Framer(self.limit)
        try:
            await self._read(connection, reader, writer, framer)
        except asyncio.CancelledError:
            pass  # stopping, or a stall: the connection just closes
        except ConnectionError as exc:
            log.info("MLLP connection from %s dropped (%s)", connection.peer, logs.class_name(exc))
        except Exception as exc:  # a fault of ours ends this connection only; the others go on
            log.error("MLLP connection from %s closed by an error (error id %s): %s", connection.peer,
                      logs.new_error_id(), logs.class_name(exc), exc_info=exc)
        finally:
            self._connections.discard(connection)
            writer.close()
            with suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _read(self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    framer: Framer) -> None:
        while not (self.stopping and not framer.mid_frame):
            connection.busy = framer.mid_frame
            try:
                data = await asyncio.wait_for(reader.read(READ_BYTES), STALL_SECONDS if framer.mid_frame else None)
            except TimeoutError:
                log.info("MLLP connection from %s stalled in the middle of a frame: closed", connection.peer)
                return
            if not data:
                if framer.mid_frame:
                    log.info("MLLP connection from %s closed in the middle of a frame", connection.peer)
                return
            connection.busy = True
            for frame in framer.feed(data):
                answer = await self._answer(frame, connection.peer)
                if answer is not None:
                    writer.write(START_BLOCK + answer + END_BLOCK)
                    await writer.drain()
            if framer.overflowed:
                return

    async def _answer(self, frame: Frame, peer: str) -> bytes | None:
        """The ACK to send for a frame, or None for what is only logged (stray bytes, an abandoned frame)."""
        if frame.problem is None:
            reply = await asyncio.get_running_loop().run_in_executor(self.executor, self._apply, frame.body, peer)
        elif frame.problem is Problem.NO_START:
            reply = Reply(AckCode.REJECTED, "no start block (0x0B) before this message: not read", _fresh_id(),
                          "frame without a start block")
        elif frame.problem is Problem.TOO_LARGE:
            reply = Reply(AckCode.REJECTED, f"message over {self.limit} bytes: not read; connection closed",
                          _fresh_id(), f"frame over {self.limit} bytes")
        else:
            log.info("MLLP from %s: %s (%d bytes) dropped", peer, frame.problem, frame.size)
            return None
        text = ack(frame.body.decode("utf-8", "replace"), reply.code, reply.note, reply.control_id, utcnow())
        log.info("MLLP message from %s control_id=%s ack=%s for=%s %s", peer, reply.control_id, reply.code,
                 _their_id(text), reply.summary)
        return text.encode("utf-8")

    def _apply(self, body: bytes, peer: str) -> Reply:
        """In a worker thread: the message through the use case, in an app context of its own."""
        from cm_tracker.services.usecases.lab_results import receive

        with self.app.app_context():
            try:
                imported = receive(body, LabFormat.HL7V2, sender=None, source=f"mllp {peer}"[:200],
                                   content_type=CONTENT_TYPE)
            except LabParseError as error:  # stored all the same, as a refused message: the ACK names it
                control_id = f"CMT{error.message_id}" if error.message_id else _fresh_id()
                return Reply(AckCode.REJECTED, f"not read: {error.where}: {error.message}", control_id,
                             f"unreadable at {error.where}")
            except ServiceError as error:
                return Reply(AckCode.ERROR, f"refused: {error.message}", _fresh_id(), f"refused ({error.code})")
            except Exception as exc:  # the sender keeps the message and sends it again; we keep the traceback
                error_id = logs.new_error_id()
                log.error("MLLP message from %s not applied (error id %s): %s", peer, error_id,
                          logs.class_name(exc), exc_info=exc)
                return Reply(AckCode.ERROR, f"not applied: an error in cm-tracker (error id {error_id})",
                             _fresh_id(), f"error id {error_id}")
        return reply_for(imported.message_id, [(r.action, r.reason) for r in imported.results], imported.ignored)


def reply_for(message_id: int, outcomes: list[tuple[LabAction, str]], ignored: int = 0) -> Reply:
    """AA when every result was applied (created, completed, corrected, unchanged or withdrawn), else AE saying how
    many were held and why (the sender's own content goes back to it; the log gets only the counts)."""
    counts = Counter(str(action) for action, _ in outcomes)
    summary = " ".join(f"{action}={counts[action]}" for action in LabAction) + f" ignored={ignored}"
    held = [reason for action, reason in outcomes if action not in APPLIED]
    control_id = f"CMT{message_id}"
    if not held:
        return Reply(AckCode.APPLIED, f"{len(outcomes)} applied", control_id, summary)
    reasons = "; ".join(dict.fromkeys(r for r in held if r)) or "see the review queue"
    return Reply(AckCode.ERROR, f"{len(held)} of {len(outcomes)} held for review: {reasons}", control_id, summary)


def _fresh_id() -> str:
    """A control id for an answer that has no stored message to name."""
    return f"CMT-{secrets.token_hex(6)}"


def _their_id(ack_text: str) -> str:
    """MSA-2 of our ACK: the sender's control id as echoed (escaped), or "-"."""
    for segment in ack_text.split("\r"):
        if segment.startswith("MSA|"):
            fields = segment.split("|")
            return fields[2] if len(fields) > 2 and fields[2] else "-"
    return "-"


def _address(name: object) -> str:
    if isinstance(name, tuple) and len(name) >= 2:
        host, port = name[0], name[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(name or "-")
