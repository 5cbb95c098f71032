"""``upload``: the artifact into ``releases/.incoming-<id>`` and unpacked there (skipped when the release
is already on the host). Nothing outside the incoming directory changes."""

from __future__ import annotations

import posixpath

from deploysafe.errors import TargetError
from deploysafe.release.context import Context
from deploysafe.release.layout import INCOMING_PREFIX
from deploysafe.release.state import existing_releases
from deploysafe.release.steps.base import Step, skipped

UPLOAD_NAME = ".artifact.tar.gz"


class Upload(Step):
    name = "upload"

    def plan(self, ctx: Context) -> list[str]:
        assert ctx.manifest is not None and ctx.artifact_path is not None
        if already_there(ctx):
            return [f"releases/{ctx.release} is already on the host: nothing to upload"]
        size = ctx.artifact_path.stat().st_size
        return [f"{size} bytes ({len(ctx.manifest.files)} files) into releases/{INCOMING_PREFIX}{ctx.release}"]

    def run(self, ctx: Context) -> str | None:
        assert ctx.artifact_path is not None
        target, layout = ctx.target, ctx.layout
        kind = target.kind(ctx.release_path)
        if kind == "dir":
            return skipped(f"releases/{ctx.release} is already on the host")
        if kind is not None:
            raise TargetError(f"{ctx.release_path} exists and is not a directory")
        incoming = layout.incoming(ctx.release)
        target.remove(incoming)
        target.mkdir(incoming)
        remote = posixpath.join(incoming, UPLOAD_NAME)
        size = ctx.artifact_path.stat().st_size
        target.upload(str(ctx.artifact_path), remote, lambda d, t: ctx.reporter.progress("upload", d, t))
        target.unpack(remote, incoming)
        target.remove(remote)
        ctx.uploaded = True
        return f"{size} bytes into releases/{INCOMING_PREFIX}{ctx.release}"


def already_there(ctx: Context) -> bool:
    """In a dry run: is the release already on the host (so nothing would be uploaded)?"""
    return ctx.state == "deploysafe" and ctx.release in existing_releases(ctx.target, ctx.layout)
