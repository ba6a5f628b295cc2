"""The archive: a tar stream of `manifest.json` and then `tables/<table>.jsonl.gz`, one per table, in the
manifest's order (parents before children), optionally inside the envelope of crypto.py.

The manifest (docs/operations.md, "The archive"):

    {"format": "cm-tracker-backup", "version": 1, "created_at": ISO UTC, "database": "sqlite" | "postgresql",
     "revision": the schema's Alembic revision,
     "tables": [{"name", "columns": [{"name", "type"}], "rows", "sha256"}, ...],
     "checks": {name: value, ...},   # checks.py: produced at create, verified after a restore
     "digest": sha256 of the canonical JSON of everything above}
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from cm_tracker.backup.errors import BackupError

FORMAT, VERSION = "cm-tracker-backup", 1
MANIFEST = "manifest.json"
READ_BLOCK = 1 << 20  # decompressed bytes read and parsed at a time
GZIP_LEVEL = 4  # of 9: most of the size gain at a fraction of the time
DAMAGED = (tarfile.TarError, EOFError, OSError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError, ValueError)


def member_name(table: str) -> str:
    return f"tables/{table}.jsonl.gz"


def manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class TableSpool:
    """One table's lines gzip'd into a file beside the archive, with their count and checksum."""

    def __init__(self, path: Path) -> None:
        self.path, self.rows, self.sha = path, 0, hashlib.sha256()
        self._raw = path.open("wb")
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)

    def add(self, lines: bytes, count: int) -> None:
        self._gzip.write(lines)
        self.sha.update(lines)
        self.rows += count

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()


def write_archive(out: IO[bytes], manifest: dict[str, Any], spools: dict[str, Path]) -> None:
    """The tar stream into `out`: the manifest, then each table's spooled file in the manifest's order."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        tar.addfile(_info(MANIFEST, len(body)), io.BytesIO(body))
        for entry in manifest["tables"]:
            path = spools[entry["name"]]
            with path.open("rb") as data:
                tar.addfile(_info(member_name(entry["name"]), path.stat().st_size), data)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o600
    return info


class ArchiveReader:
    """Reads an archive front to back (a stream: it may be decrypting), checking as it goes.

    `manifest` is read and checked first; `tables()` then yields each table's entry with an iterator over its
    decoded rows, which raises BackupError once a table's rows do not match its count or checksum."""

    def __init__(self, stream: BinaryIO) -> None:
        try:
            self._tar = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115  (read by tables(), the caller's file)
            first = self._tar.next()
        except BackupError:
            raise
        except DAMAGED as exc:
            raise BackupError("archive", f"not a readable backup archive ({exc})") from exc
        if first is None or first.name != MANIFEST:
            raise BackupError("manifest", "the archive does not begin with its manifest")
        self.manifest = _read_manifest(self._member_bytes(first, MANIFEST))

    def _member_bytes(self, member: tarfile.TarInfo, label: str) -> bytes:
        try:
            data = self._tar.extractfile(member)
            return data.read() if data else b""
        except BackupError:
            raise
        except DAMAGED as exc:
            raise BackupError(label, f"damaged or truncated ({exc})") from exc

    def tables(self, *, parse: bool = True) -> Iterator[tuple[dict[str, Any], Iterator[Any]]]:
        """Each table's entry and its rows: decoded, or (parse=False, to check an archive) its lines as bytes, so
        that any change to a line fails its checksum rather than its JSON."""
        for entry in self.manifest["tables"]:
            name = member_name(entry["name"])
            try:
                member = self._tar.next()
            except BackupError:
                raise
            except DAMAGED as exc:
                raise BackupError(f"table file {entry['name']}", f"damaged or truncated ({exc})") from exc
            if member is None or member.name != name:
                found = "the end of the archive" if member is None else member.name
                raise BackupError(f"table file {entry['name']}", f"missing: found {found} where {name} belongs")
            yield entry, self._rows(entry, member, parse)

    def _rows(self, entry: dict[str, Any], member: tarfile.TarInfo, parse: bool) -> Iterator[Any]:
        table, sha, rows = entry["name"], hashlib.sha256(), 0
        try:
            data = self._tar.extractfile(member)
            assert data is not None  # a regular file member always has data
            with gzip.GzipFile(fileobj=data, mode="rb") as stream:
                for lines in _whole_lines(stream):
                    sha.update(lines)
                    rows += lines.count(b"\n") or 1
                    if parse:
                        # A line never holds a raw newline (JSON escapes it): a block is one JSON document of rows.
                        yield from json.loads(b"[" + lines.rstrip(b"\n").replace(b"\n", b",") + b"]")
        except BackupError:
            raise
        except DAMAGED as exc:
            raise BackupError(f"table file {table}", f"damaged or truncated ({exc})") from exc
        if rows != entry["rows"]:
            raise BackupError(f"row count of {table}", f"{rows:,} rows where the manifest says {entry['rows']:,}")
        if sha.hexdigest() != entry["sha256"]:
            raise BackupError(f"checksum of {table}", "its rows do not match the manifest's sha256")


def _whole_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks of about READ_BLOCK bytes, each cut after a newline (the last as it ends)."""
    rest = b""
    while block := stream.read(READ_BLOCK):
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut:
            yield block[:cut]
        rest = block[cut:]
    if rest:
        yield rest


def _read_manifest(body: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(body)
    except ValueError as exc:
        raise BackupError("manifest", f"not JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("manifest", "not a cm-tracker backup manifest")
    if manifest.get("version") != VERSION:
        raise BackupError("format version", f"version {manifest.get('version')!r}; this release reads {VERSION}")
    if manifest.get("digest") != manifest_digest(manifest):
        raise BackupError("manifest digest", "the manifest was changed after the archive was written")
    return manifest
