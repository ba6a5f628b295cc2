"""A JSON object read a member at a time, and the values of its arrays under one key a value at a time, from the
body's bytes decoded a block at a time: a FHIR Bundle of any length is read in about the memory of one entry.

Each value is decoded by the standard library's own decoder (`json.JSONDecoder.raw_decode`), so what it accepts
and refuses is what json.loads accepts and refuses; only the top level is walked here. An error is raised as the
decoder's JSONDecodeError, its `lineno` counted from the start of the body.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

BLOCK = 1 << 16  # bytes decoded at a time
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")

Step = Callable[[str, int], tuple[Any, int]]


class NotAnObject(ValueError):
    """The body is JSON, but not an object."""


def members(body: bytes | str, streamed: str) -> Iterator[tuple[str, Any, bool]]:
    """(key, value, False) for each member of the body's top-level object, in order, but for a `streamed` key
    whose value is an array: (key, element, True) for each of its elements instead. JSONDecodeError as json.loads
    raises it; NotAnObject for JSON that is not an object."""
    window = _Window(body)
    if not window.take(_opening("{")):
        json.loads(body)  # the decoder's error, naming the line, unless it is JSON of another shape
        raise NotAnObject("not an object")
    closed = window.take(_first("}"))
    while not closed:
        key, array = window.take(_key)
        if key == streamed and array:
            window.take(_opening("["))
            closed_array = window.take(_first("]"))
            while not closed_array:
                yield key, window.take(_DECODER.raw_decode), True
                closed_array = window.take(_after("]"))
        else:
            yield key, window.take(_DECODER.raw_decode), False
        closed = window.take(_after("}"))
    window.end()


class _Window:
    """The text from where the reading is, decoded as far as needed; what is read is dropped."""

    def __init__(self, body: bytes | str) -> None:
        self.body = body
        self.text, self.at, self.lines = (body, 0, 0) if isinstance(body, str) else ("", 0, 0)
        self.read = len(body) if isinstance(body, str) else 0
        if isinstance(body, bytes):
            self.decoder = codecs.getincrementaldecoder(json.detect_encoding(body))("surrogatepass")

    @property
    def exhausted(self) -> bool:
        return self.read >= len(self.body)

    def take(self, step: Step) -> Any:
        """What `step` reads from here, once the text holds all of it: a step that fails or reaches the end of
        what is decoded is tried again with more, until the body is all decoded."""
        while True:
            try:
                value, end = step(self.text, self.at)
            except json.JSONDecodeError as error:
                if self._more():
                    continue
                raise _shifted(error, self.lines) from None
            if end < len(self.text) or not self._more():
                self.at = end
                return value

    def end(self) -> None:
        while True:
            at = _space(self.text, self.at)
            if at < len(self.text):
                raise _shifted(json.JSONDecodeError("Extra data", self.text, at), self.lines)
            self.at = at
            if not self._more():
                return

    def _more(self) -> bool:
        if self.exhausted:
            return False
        assert isinstance(self.body, bytes)
        block = self.body[self.read:self.read + BLOCK]
        self.read += len(block)
        self.lines += self.text.count("\n", 0, self.at)
        self.text = self.text[self.at:] + self.decoder.decode(block, final=self.exhausted)
        self.at = 0
        return True


def _shifted(error: json.JSONDecodeError, lines: int) -> json.JSONDecodeError:
    """The error with its line counted from the start of the body (the text before the window was dropped)."""
    error.lineno += lines
    return error


def _space(text: str, at: int) -> int:
    found = _SPACE.match(text, at)
    return found.end() if found else at


def _expect(text: str, at: int, char: str) -> int:
    if not text.startswith(char, at):
        raise json.JSONDecodeError(f"Expecting {char!r} delimiter", text, at)
    return at + 1


def _opening(bracket: str) -> Step:
    """Whether the next value opens with `bracket`, past it (it is not read further)."""
    def step(text: str, at: int) -> tuple[bool, int]:
        at = _space(text, at)
        if at >= len(text):
            raise json.JSONDecodeError("Expecting value", text, at)
        return text.startswith(bracket, at), at + 1
    return step


def _first(closing: str) -> Step:
    """Just inside an object or array: True past it when it is empty, else False at its first member or value."""
    def step(text: str, at: int) -> tuple[bool, int]:
        at = _space(text, at)
        if text.startswith(closing, at):
            return True, at + 1
        if at >= len(text) or (closing == "}" and not text.startswith('"', at)):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
        return False, at
    return step


def _key(text: str, at: int) -> tuple[tuple[str, bool], int]:
    """A member's key and whether its value is an array, up to the start of the value."""
    if not text.startswith('"', at):
        raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
    key, at = _DECODER.raw_decode(text, at)
    at = _space(text, _expect(text, _space(text, at), ":"))
    if at >= len(text):
        raise json.JSONDecodeError("Expecting value", text, at)
    return (key, text.startswith("[", at)), at


def _after(closing: str) -> Step:
    """After a member or value: True past the closing bracket, else False at the next one (past the comma)."""
    def step(text: str, at: int) -> tuple[bool, int]:
        at = _space(text, at)
        if text.startswith(closing, at):
            return True, at + 1
        at = _space(text, _expect(text, at, ","))
        if at >= len(text):
            raise json.JSONDecodeError("Expecting value", text, at)
        if closing == "}" and not text.startswith('"', at):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
        return False, at
    return step
