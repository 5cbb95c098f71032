"""The one-screen report of a failed deploy step or run: a title, then the last lines of each section
(the command's output, the service's logs). The release engine keeps it in the run's result and history;
the command line prints it as it is."""

from __future__ import annotations

LAST_LINES = 15


def format_report(title: str, sections: list[tuple[str, str]]) -> str:
    lines = [title]
    for heading, body in sections:
        if not body:
            continue
        lines.append(f"  {heading}:")
        lines += [f"    {line}" for line in body.splitlines()[-LAST_LINES:]]
    return "\n".join(lines)
