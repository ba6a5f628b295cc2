"""Portable, verified backups of the whole database (docs/operations.md): `flask backup create` and `restore`.

codec: each column's portable type and the canonical row encoding; archive: the tar of a manifest and one gzip'd
JSON-lines file per table; crypto: the optional AES-256-GCM envelope; checks: values produced at create and verified
after a restore (the extension point); create and restore: the two directions over a database connection.
"""
