"""The optional encryption of an archive: AES-256-GCM over the whole tar, in chunks, so it streams both ways.

Layout (docs/operations.md, "Encrypted archives"):

    MAGIC (32 bytes) | mode: b"K" key file or b"P" passphrase | salt (16) | for b"P": log2 N, r, p (1 byte each)
    then chunks: length of the ciphertext (4 bytes, big-endian) | ciphertext with its 16-byte tag

The archive key is HKDF-SHA256(key file's 32 bytes, salt) or scrypt(passphrase, salt, N, r, p); a fresh salt per
archive gives each archive its own key, so the nonce can be the chunk's number (96 bits, big-endian). Every chunk
authenticates the header and whether it is the last (the STREAM construction of Hoang et al., "Online
Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance"), so a wrong key, a changed byte, chunks swapped,
or an archive cut short after any chunk are all refused.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cm_tracker.backup.errors import BackupError

MAGIC = b"cm-tracker-backup/aes-256-gcm/1\n"
CHUNK = 1 << 20  # plaintext bytes per chunk
SCRYPT = (17, 8, 1)  # log2 N, r, p: 128 MiB and about half a second, once per archive
MAX_LOG2_N = 20  # an archive may not make a restore spend more than 1 GiB on its key
MIN_PASSPHRASE = 12
WRONG = "wrong key or damaged archive"


@dataclass(frozen=True)
class Secret:
    """What unlocks archives: a key file's 32 bytes, or a passphrase."""

    key: bytes | None = None
    passphrase: bytes | None = None


def new_key_text() -> str:
    """A fresh key file's content: 32 random bytes, base64, one line."""
    return base64.b64encode(os.urandom(32)).decode("ascii") + "\n"


def read_key_file(path: Path) -> Secret:
    try:
        key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise BackupError("key", f"cannot read the key file {path}: {exc}") from exc
    if len(key) != 32:
        raise BackupError("key", f"{path} is not a backup key (32 bytes, base64; `flask backup new-key`)")
    return Secret(key=key)


def passphrase_secret(passphrase: str, *, creating: bool) -> Secret:
    if creating and len(passphrase) < MIN_PASSPHRASE:
        raise BackupError("key", f"the passphrase is shorter than {MIN_PASSPHRASE} characters")
    return Secret(passphrase=passphrase.encode())


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _archive_key(secret: Secret, mode: bytes, salt: bytes, params: tuple[int, int, int]) -> AESGCM:
    if mode == b"K":
        if secret.key is None:
            raise BackupError("key", "the archive was encrypted with a key file: give --key-file")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"cm-tracker backup").derive(secret.key)
    else:
        if secret.passphrase is None:
            raise BackupError("key", "the archive was encrypted with a passphrase: give --passphrase-file")
        log2_n, r, p = params
        key = Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(secret.passphrase)
    return AESGCM(key)


class EncryptingWriter:
    """A write-only file object that encrypts what it is given into `raw`; close() writes the last chunk."""

    def __init__(self, raw: BinaryIO, secret: Secret) -> None:
        mode, salt = (b"K" if secret.key is not None else b"P"), os.urandom(16)
        params = SCRYPT if mode == b"P" else (0, 0, 0)
        self.header = MAGIC + mode + salt + (bytes(params) if mode == b"P" else b"")
        self.aead = _archive_key(secret, mode, salt, params)
        self.raw, self.buffer, self.counter = raw, bytearray(), 0
        raw.write(self.header)

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= CHUNK:
            self._seal(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        self._seal(bytes(self.buffer), last=True)
        self.buffer.clear()

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce, flag = self.counter.to_bytes(12, "big"), (b"\x01" if last else b"\x00")
        sealed = self.aead.encrypt(nonce, plain, self.header + flag)
        self.raw.write(struct.pack(">I", len(sealed)) + sealed)
        self.counter += 1


class DecryptingReader:
    """A read-only file object over an encrypted archive, refusing it at the first chunk that does not open."""

    def __init__(self, raw: BinaryIO, secret: Secret) -> None:
        head = _exactly(raw, len(MAGIC) + 17)
        mode, salt = head[len(MAGIC):len(MAGIC) + 1], head[len(MAGIC) + 1:]
        if not is_encrypted(head) or mode not in (b"K", b"P"):
            raise BackupError("key", WRONG)
        params = (0, 0, 0)
        if mode == b"P":
            extra = _exactly(raw, 3)
            params = (extra[0], extra[1], extra[2])
            if not 10 <= params[0] <= MAX_LOG2_N or params[1] < 1 or params[2] < 1:
                raise BackupError("key", "the archive asks for scrypt parameters out of range")
            head += extra
        self.header, self.raw = head, raw
        self.aead = _archive_key(secret, mode, salt, params)
        self.buffer, self.counter, self.finished = bytearray(), 0, False

    def read(self, size: int = -1) -> bytes:
        while not self.finished and (size < 0 or len(self.buffer) < size):
            self._open_next()
        if size < 0:
            size = len(self.buffer)
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        return out

    def _open_next(self) -> None:
        (length,) = struct.unpack(">I", _exactly(self.raw, 4))
        if length < 16 or length > CHUNK + 16:
            raise BackupError("key", WRONG)
        sealed = _exactly(self.raw, length)
        nonce = self.counter.to_bytes(12, "big")
        for last in (False, True):
            try:
                self.buffer += self.aead.decrypt(nonce, sealed, self.header + (b"\x01" if last else b"\x00"))
            except InvalidTag:
                continue
            self.counter += 1
            self.finished = last
            if last and self.raw.read(1):
                raise BackupError("archive", "bytes follow the end of the encrypted archive")
            return
        raise BackupError("key", WRONG)


def _exactly(raw: BinaryIO, size: int) -> bytes:
    data = raw.read(size)
    if len(data) != size:
        raise BackupError("archive", "the encrypted archive is truncated")
    return data
