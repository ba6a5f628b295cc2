"""HL7 v2 acknowledgements for the MLLP listener: AA applied, AE held or refused, AR unreadable (HL7 table 0008)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

import hl7

APPLICATION, FACILITY = "CMTRACKER", "CLINIC"


class AckCode(StrEnum):
    APPLIED = "AA"
    ERROR = "AE"  # read, but held for review or refused
    REJECTED = "AR"  # could not be read


def ack(message_text: str, code: AckCode, note: str, control_id: str, at: datetime) -> str:
    """An ACK^R01 answering `message_text`: it echoes the sender's application and facility and its control id
    (MSH-10) where the message's header can be read, and carries `note` in MSA-3 (escaped, at most 80 characters
    as HL7 2.5.1 allows there)."""
    sender_app = sender_facility = their_id = ""
    version = "2.5.1"
    try:
        header = re.split(r"\r\n|\r|\n", message_text.strip("\x0b\x1c\r\n "))[0]
        msh = hl7.parse(header).segment("MSH")
        sender_app, sender_facility = str(msh[3]), str(msh[4])
        their_id, version = str(msh[10]), str(msh[12]) or version
    except Exception:  # an unreadable header is answered all the same, without echoing it
        pass
    text = _escaped(note)[:80]
    return (f"MSH|^~\\&|{APPLICATION}|{FACILITY}|{_escaped(sender_app)}|{_escaped(sender_facility)}|"
            f"{at:%Y%m%d%H%M%S%z}||ACK^R01^ACK|{control_id}|P|{_escaped(version)}\r"
            f"MSA|{code}|{_escaped(their_id)}|{text}\r")


def _escaped(text: str) -> str:
    """HL7 escape sequences for the delimiters (\\F\\ field, \\S\\ component, \\R\\ repetition, \\T\\ sub-component,
    \\E\\ escape), so a note or an echoed value cannot break the ACK's structure; CR and LF become spaces."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("~", "\\R\\")
    return out.replace("&", "\\T\\").replace("\r", " ").replace("\n", " ")
