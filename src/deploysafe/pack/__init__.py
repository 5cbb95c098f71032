"""Release artifacts that hold exactly what the entries load: ``pack`` builds one, ``verify`` judges one.

    from deploysafe.pack import pack, verify
    result = pack("examples/seed-api-fixed", output="dist/")
    print(result.path, result.id)
    assert verify(result.path, install=True).self_contained

The format is docs/artifact.md; :mod:`deploysafe.artifact` reads it.
"""

from __future__ import annotations

from deploysafe.pack.api import PackResult, pack
from deploysafe.pack.errors import PackBlocked, PackError
from deploysafe.pack.select import Excluded, Picked, Selection
from deploysafe.pack.verify import VerifyResult, verify

__all__ = [
    "Excluded",
    "PackBlocked",
    "PackError",
    "PackResult",
    "Picked",
    "Selection",
    "VerifyResult",
    "pack",
    "verify",
]
