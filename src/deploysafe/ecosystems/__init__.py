"""The languages the check understands, each behind :mod:`deploysafe.check.ecosystem`'s interface.

A new ecosystem is a package here and one line in :func:`registered`; the pipeline does not change.
Ecosystems load on first use, so ``import deploysafe`` stays cheap.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deploysafe.check.ecosystem import Ecosystem


@functools.cache
def registered() -> tuple[Ecosystem, ...]:
    """Every ecosystem, the default first."""
    from deploysafe.ecosystems.node.ecosystem import NodeEcosystem

    return (NodeEcosystem(),)


def default() -> Ecosystem:
    return registered()[0]


def for_root(root: str) -> Ecosystem:
    """The ecosystem whose manifest the project has; the default when none claims it (a bare index.js)."""
    return next((ecosystem for ecosystem in registered() if ecosystem.detect(root)), default())
