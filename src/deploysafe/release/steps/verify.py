"""``verify``: every file of the release on the host has its manifest's sha256. A fresh upload must hold
nothing unlisted; a release already there (a redeploy, a rollback) is re-checked against its manifest."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import replace

from deploysafe.artifact import MANIFEST_PATH, parse_manifest
from deploysafe.release import hosttree
from deploysafe.release.context import Context
from deploysafe.release.steps.base import Step, skipped
from deploysafe.release.steps.upload import already_there


class Verify(Step):
    name = "verify"

    def plan(self, ctx: Context) -> list[str]:
        if ctx.kind == "rollback":
            return [f"re-check releases/{ctx.release} against its manifest"]
        assert ctx.manifest is not None
        count = len(ctx.manifest.files)
        if already_there(ctx):
            return [f"re-check {count} files of releases/{ctx.release}"]
        return [f"sha256 of {count} files on the host, nothing unlisted"]

    def run(self, ctx: Context) -> str | None:
        if ctx.kind == "rollback":
            return verify_on_host(ctx)
        assert ctx.manifest is not None
        where = ctx.layout.incoming(ctx.release) if ctx.uploaded else ctx.release_path
        count = hosttree.match_manifest(ctx.target, where, ctx.manifest, strict=ctx.uploaded)
        return f"{count} files match their sha256" + ("" if ctx.uploaded else " (existing release)")


def verify_on_host(ctx: Context) -> str:
    """A release already on the host, against the manifest it carries (an adopted one has none)."""
    data = ctx.target.read_file(posixpath.join(ctx.release_path, MANIFEST_PATH))
    if data is None:
        return skipped("no manifest (an adopted release): not verified")
    manifest = replace(parse_manifest(data), manifest_sha256=hashlib.sha256(data).hexdigest())
    count = hosttree.match_manifest(ctx.target, ctx.release_path, manifest, strict=False)
    return f"{count} files match their sha256"
