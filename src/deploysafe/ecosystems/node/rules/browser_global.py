"""`browser-global`: code that runs at load needs a browser — it reads `window`, `document`, ... which Node
does not define, or throws under a test only a browser passes (`if (!window.document) throw ...`).

Never an error: the process may define the name before this file loads (jsdom, `global.window = ...`
elsewhere), which the check cannot see. It is listed as unverified, with the file, line and global; inside a
package it is said at the service's import that brings the package in. Files only a lazy load reaches are
not listed (they fail, if at all, when that code runs). The facts come from
:mod:`deploysafe.ecosystems.node.parse.browser_globals`."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check.findings import BROWSER_GLOBAL
from deploysafe.check.graph import Module
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.parse.facts import NodeModuleFacts
from deploysafe.ecosystems.node.rules.context import RuleContext

ID = "browser-global"
_NODE_DEFINES = {"navigator": 21}  # Node defines `navigator` from this major version on


class BrowserGlobalRule(Rule):
    id = ID
    summary = "Code that runs at load reads a browser-only global."
    predicts = (
        "`ReferenceError: window is not defined` (or a library's `throw` when `document` is missing) in code that "
        "runs at load: listed as unverified, never blocked — the process may define the global first"
    )
    help = "Load the file only in a browser build, guard the read with `typeof window !== 'undefined'`, or define it."

    def check_module(self, ctx: RuleContext, module: Module) -> Iterator[Result]:  # type: ignore[override]
        source = module.source
        facts = source.facts if source is not None else None
        if not isinstance(facts, NodeModuleFacts) or not facts.browser_need[0] or module.path in ctx.lazy:
            return
        if not ctx.graph.is_reachable(module.path):
            return
        line, column, what = facts.browser_need
        name = what.split("`")[1] if "`" in what else ""
        since = _NODE_DEFINES.get(name)
        if since is not None and ctx.analysis.node.major >= since:
            return
        if what.startswith("throws"):
            detail = f"{what} at load: a test only a browser passes (Node {ctx.analysis.node} has no such global)"
        else:
            detail = f"{what} at load, which Node {ctx.analysis.node} does not define (a browser global)"
        yield ctx.unverified(BROWSER_GLOBAL, module, line, column, detail)
