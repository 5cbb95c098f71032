"""``link-shared``: every ``shared`` entry of the target linked into the release (``shared/.env`` →
``releases/<id>/.env``); a missing shared file stops the deploy before the switch."""

from __future__ import annotations

import posixpath

from deploysafe.release.context import Context
from deploysafe.release.run import StepFailed
from deploysafe.release.steps.base import Step, skipped


class LinkShared(Step):
    name = "link-shared"

    def plan(self, ctx: Context) -> list[str]:
        lines = []
        for entry in ctx.spec.shared:
            rel = entry.rstrip("/")
            exists = ctx.target.kind(f"{ctx.layout.shared}/{rel}") is not None
            note = "" if exists else (" (created)" if entry.endswith("/") else " - MISSING: the deploy would stop here")
            lines.append(f"{rel} → shared/{rel}{note}")
        return lines

    def run(self, ctx: Context) -> str | None:
        target = ctx.target
        linked = []
        for entry in ctx.spec.shared:
            is_dir = entry.endswith("/")
            rel = entry.rstrip("/")
            source = posixpath.join(ctx.layout.shared, rel)
            kind = target.kind(source)
            if is_dir:
                if kind is None:
                    target.mkdir(source)
                elif kind != "dir":
                    raise StepFailed(f"shared/{rel} should be a directory but is a {kind}")
            elif kind is None:
                raise StepFailed(
                    f"shared/{rel} is missing on {target.url}: create it there (every release links it) "
                    "and deploy again"
                )
            dest = posixpath.join(ctx.release_path, rel)
            target.mkdir(posixpath.dirname(dest))
            if target.kind(dest) not in (None, "link"):
                target.remove(dest)
                ctx.warn(f"{rel} in the release is replaced by the link to shared/{rel}")
            target.replace_symlink(dest, posixpath.relpath(source, posixpath.dirname(dest)))
            linked.append(entry)
        return f"linked {', '.join(linked)}" if linked else skipped("nothing shared")
