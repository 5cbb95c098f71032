"""The release artifact (docs/artifact.md, format 1), written and read in one place.

- :mod:`.manifest`: ``.deploysafe/manifest.json`` — :class:`FileRecord` (one packed file), :class:`Manifest`,
  parsing with validation, and the writer side (hashing files, building and encoding the document).
- :mod:`.writer`: the deterministic tar.gz writer; :mod:`.tarheaders`: the tar headers it writes.
- :mod:`.reader`: reading an archive back — its manifest, a full verification of every member, a safe unpack.

``pack`` decides what goes in; ``release`` and ``verify`` read it back through :mod:`.reader`.
"""

from __future__ import annotations

from deploysafe.artifact.manifest import (
    FORMAT,
    MANIFEST_PATH,
    FileRecord,
    Manifest,
    check_member_name,
    content_sha256,
    parse_manifest,
)
from deploysafe.artifact.reader import extract, read_manifest, read_member, sha256_file, verify_archive

__all__ = [
    "FORMAT",
    "MANIFEST_PATH",
    "FileRecord",
    "Manifest",
    "check_member_name",
    "content_sha256",
    "extract",
    "parse_manifest",
    "read_manifest",
    "read_member",
    "sha256_file",
    "verify_archive",
]
