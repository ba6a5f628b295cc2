"""MLLP framing (HL7 v2's Minimal Lower Layer Protocol): each message travels as <VT> message <FS><CR>, bytes 0x0B,
then the message, then 0x1C 0x0D. Pure: bytes in, frames out; the listener (cm_tracker/mllp.py) does the I/O.

Senders are not always tidy, and one bad frame must not cost the next good one, so the framer is lenient where that
loses nothing and strict where guessing would:
- bytes between frames are dropped (many senders put a CR or LF after <FS><CR>); anything else there is reported;
- a start block inside a frame means the sender gave up on that frame and began another: the unfinished one is
  dropped and reported, the new one read;
- an end block with no start block before it is a frame without its start: reported, so it can be refused (AR);
- a frame (or run of stray bytes) over the size limit is reported once, and the connection is to be closed, since
  nothing after it can be trusted to line up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

START_BLOCK, END_BLOCK = b"\x0b", b"\x1c\r"
MAX_FRAME_BYTES = 10 * 1024 * 1024


class Problem(StrEnum):
    NO_START = "a frame without its start block"
    UNFINISHED = "a frame left unfinished by a new start block"
    STRAY = "bytes outside a frame"
    TOO_LARGE = "a frame over the size limit"


@dataclass(frozen=True, slots=True)
class Frame:
    """One message as framed (without its blocks), or a problem; `size` counts the bytes concerned."""

    body: bytes
    problem: Problem | None = None
    size: int = 0


class Framer:
    """Feed it what the socket reads; it returns the frames completed so far."""

    def __init__(self, limit: int = MAX_FRAME_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._inside = False  # after a start block
        self._searched = 0  # how far the frame was searched already, for its end and for a new start
        self.overflowed = False

    @property
    def mid_frame(self) -> bool:
        """A frame has begun and not ended: the sender is still sending a message."""
        return self._inside

    def feed(self, data: bytes) -> list[Frame]:
        if self.overflowed:
            return []
        self._buffer += data
        frames: list[Frame] = []
        while not self.overflowed and (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> Frame | None:
        if not self._inside:
            return self._outside()
        end = self._buffer.find(END_BLOCK, max(self._searched - 1, 0))
        restart = self._buffer.find(START_BLOCK, self._searched, len(self._buffer) if end < 0 else end)
        if restart >= 0:  # a new start before this frame's end: the earlier frame is abandoned
            dropped = bytes(self._buffer[:restart])
            del self._buffer[:restart + 1]
            self._searched = 0
            return Frame(b"", Problem.UNFINISHED, len(dropped))
        if end < 0:
            self._searched = len(self._buffer)
            return self._overflow(len(self._buffer))
        if end > self.limit:
            return self._overflow(end)
        body = bytes(self._buffer[:end])
        del self._buffer[:end + len(END_BLOCK)]
        self._inside, self._searched = False, 0
        return Frame(body, size=len(body))

    def _outside(self) -> Frame | None:
        start = self._buffer.find(START_BLOCK)
        end = self._buffer.find(END_BLOCK)
        if end >= 0 and (start < 0 or end < start):
            stray = bytes(self._buffer[:end])
            del self._buffer[:end + len(END_BLOCK)]
            return Frame(stray, Problem.NO_START, len(stray))
        if start < 0:
            return self._overflow(len(self._buffer))
        stray = bytes(self._buffer[:start]).strip(b"\r\n\t \x00")
        del self._buffer[:start + 1]
        self._inside, self._searched = True, 0
        return Frame(b"", Problem.STRAY, len(stray)) if stray else self._next()

    def _overflow(self, size: int) -> Frame | None:
        if size <= self.limit:
            return None
        self.overflowed = True
        head = bytes(self._buffer[:4096])  # enough to read the header the refusal echoes
        self._buffer.clear()
        return Frame(head, Problem.TOO_LARGE, size)
