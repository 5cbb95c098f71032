"""`deploysafe rules` for people and for tools: every rule of every ecosystem, from the registries."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from deploysafe.check.rules import RuleSet

RULES_VERSION = 1


def to_json(rulesets: Sequence[RuleSet]) -> dict[str, object]:
    return {
        "version": RULES_VERSION,
        "rules": [{**rule.to_json(), "ecosystem": rules.ecosystem} for rules in rulesets for rule in rules],
    }


def render_json(rulesets: Sequence[RuleSet]) -> str:
    return json.dumps(to_json(rulesets), indent=2, ensure_ascii=False) + "\n"


def render_text(rulesets: Sequence[RuleSet], console: Console, *, verbose: bool = False) -> None:
    """One line per rule, id then summary; ``verbose`` adds what the runtime does and how to fix it."""
    width = max((len(rule.id) for rules in rulesets for rule in rules), default=0)
    for rules in rulesets:
        for rule in rules:
            warning = " [dim](warning)[/]" if str(rule.level) == "warning" else ""
            console.print(f"[bold]{rule.id.ljust(width)}[/]  {escape(rule.summary)}{warning}", soft_wrap=True)
            if verbose:
                console.print(f"  {' ' * width}[dim]runtime:[/] {escape(rule.predicts)}", soft_wrap=True)
                console.print(f"  {' ' * width}[dim]fix:[/] {escape(rule.help)}", soft_wrap=True)
