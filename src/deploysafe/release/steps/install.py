"""``install``: the release's production dependencies — reused by hard links from any release on the host
installed from the same lockfile with the same install command (current and fallback first, then the
newest), otherwise the target's ``install`` command run in
the release directory. What was installed is recorded in the release (``.deploysafe/install.json``)."""

from __future__ import annotations

import json
import posixpath

from deploysafe.release.context import Context
from deploysafe.release.layout import is_adopted
from deploysafe.release.state import INSTALL_RECORD, existing_releases, install_record
from deploysafe.release.steps.base import Step, run_in_release, skipped


class Install(Step):
    name = "install"

    def plan(self, ctx: Context) -> list[str]:
        assert ctx.manifest is not None
        if ctx.manifest.file("package.json") is None:
            return ["nothing (no package.json)"]
        donor = _donor(ctx) if ctx.state == "deploysafe" else None
        return [f"reuse node_modules of {donor} (lockfile unchanged)" if donor else f"run `{ctx.spec.install}`"]

    def run(self, ctx: Context) -> str | None:
        assert ctx.manifest is not None
        spec, target = ctx.spec, ctx.target
        if ctx.manifest.file("package.json") is None:
            return skipped("no package.json")
        wanted = _wanted(ctx)
        if install_record(target, ctx.layout, ctx.release) == wanted and ctx.manifest.lockfile_sha256:
            return skipped("dependencies already installed in this release")
        donor = _donor(ctx)
        if donor is not None:
            donor_nm = posixpath.join(ctx.layout.release(donor), "node_modules")
            target_nm = posixpath.join(ctx.release_path, "node_modules")
            target.remove(target_nm)
            if target.kind(donor_nm) == "dir":
                target.run(["cp", "-al", donor_nm, target_nm], timeout=600).check(
                    "linking node_modules from the previous release"
                )
            _write_record(ctx, wanted)
            return f"reused node_modules of {donor} (lockfile unchanged)"
        ctx.reporter.progress("install", 0, None)
        run_in_release(ctx, spec.install, timeout=spec.install_timeout, what=f"`{spec.install}`")
        _write_record(ctx, wanted)
        return f"ran `{spec.install}`"


def _wanted(ctx: Context) -> dict:
    assert ctx.manifest is not None
    return {"lockfile_sha256": ctx.manifest.lockfile_sha256, "command": ctx.spec.install}


def _donor(ctx: Context) -> str | None:
    """A release on the host whose node_modules this one can share (same lockfile and command): the current
    or fallback release first, then any other, newest first (a manual rollback leaves the matching one
    neither current nor fallback)."""
    assert ctx.manifest is not None
    if not ctx.manifest.lockfile_sha256:
        return None
    wanted = _wanted(ctx)
    present = sorted(existing_releases(ctx.target, ctx.layout), reverse=True)  # ids start with their time
    others = [r for r in present if not is_adopted(r)] + [r for r in present if is_adopted(r)]
    candidates = (ctx.previous, ctx.fallback, *others)
    for donor in dict.fromkeys(r for r in candidates if r and r != ctx.release):
        if install_record(ctx.target, ctx.layout, donor) == wanted:
            return donor
    return None


def _write_record(ctx: Context, record: dict) -> None:
    path = posixpath.join(ctx.release_path, INSTALL_RECORD)
    ctx.target.mkdir(posixpath.dirname(path))
    ctx.target.write_file(path, json.dumps(record).encode())
