"""The command-line surface: argument parsing, output choice, exit codes. No logic lives here.

Each command is a module of its own in this package and registers itself on :data:`main`.
Exit codes: 0 success/deployable, 1 blocked or failed, 2 usage or configuration error.

:func:`run` is the console script. It turns Python's cycle collector off while the command's modules load
(they build some 100,000 objects that live as long as the process, and the collector would walk them
again and again: a tenth of a small check's CPU time) and back on, with those objects frozen out of its
walks, once the command is known (:meth:`deploysafe.cli.app.DeploysafeGroup.resolve_command`); a one-shot
``check`` keeps it off to the end (the check itself runs with it off, and the process ends with it). It also
gives the dataclasses module the methods compiled in an earlier run (:mod:`deploysafe.compiled_methods`):
only the console script does, so ``import deploysafe`` in someone's program changes nothing of theirs.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploysafe.cli.app import main

__all__ = ["main", "run"]


def run() -> None:
    """``deploysafe``: the root command, with the collector off until its command is loaded."""
    gc.disable()
    from deploysafe import compiled_methods

    compiled_methods.install()  # before any of deploysafe's dataclasses is made
    from deploysafe.cli.app import main

    main()


def __getattr__(name: str) -> Any:
    if name == "main":
        from deploysafe.cli.app import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
