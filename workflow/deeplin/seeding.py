"""Hashed, purpose-keyed seeds: every random stream of every result is derived from the names of what it is
for, so adding a grid point or a purpose never changes another stream's numbers."""

from __future__ import annotations

import hashlib


def derived_seed(*fields: object) -> int:
    """A 63-bit seed from the ``fields`` (e.g. a point's parameters and the stream's purpose), stable across
    runs, machines and Python versions: SHA-256 of ``deeplin|field|field|…``, its first 8 bytes little-endian."""
    key = "|".join(["deeplin", *map(str, fields)])
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1
