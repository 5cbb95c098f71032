"""Release artifacts for the tests, built by the real packer (``deploysafe.pack.pack``) from a working copy.

- :class:`ReleaseApp`: tests/fixtures/release-app, a tiny CommonJS service whose ``faults.json`` makes a
  release crash at boot or fail its health on one port. Fast: the crash walk and the fleets use it.
- :class:`ExampleApp`: examples/seed-api-fixed, the bundled Hono service (ESM, two npm packages, a pm2
  process file). Its version comes from package.json and ``src/version.js``; a new version rewrites both.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from deploysafe.pack import pack

TESTS = Path(__file__).resolve().parent.parent
NPMRC = "prefer-offline=true\naudit=false\nfund=false\nupdate-notifier=false\n"
RELEASE_APP = TESTS / "fixtures" / "release-app"
EXAMPLE = TESTS.parent / "examples" / "seed-api-fixed"


class _Copy:
    def __init__(self, source: Path, work: Path, *, node_modules: bool) -> None:
        self.root = work / "src"
        self.out = work / "artifacts"
        self.out.mkdir(parents=True, exist_ok=True)
        ignore = None if node_modules else shutil.ignore_patterns("node_modules")
        shutil.copytree(source, self.root, ignore=ignore)
        # Every deploy runs `npm ci` on its host. The packages come from npm's cache (~/.npm, which CI
        # restores), never re-validated against the registry: a deploy test takes seconds, whatever the
        # registry's speed. The file ships in the artifact as install settings, as a user's would.
        (self.root / ".npmrc").write_text(NPMRC)

    def _set_version(self, version: str) -> None:
        package = self.root / "package.json"
        data = json.loads(package.read_text())
        data["version"] = version
        package.write_text(json.dumps(data, indent=2) + "\n")

    def _pack(self, include: Iterable[str] = (), force: bool = False) -> Path:
        return pack(self.root, output=self.out, include=list(include), force=force).path


class ReleaseApp(_Copy):
    """``build(version, faults=..., extra=...)``: the release app packed at ``version``."""

    def __init__(self, work: Path) -> None:
        super().__init__(RELEASE_APP, work, node_modules=False)

    def build(self, version: str, faults: dict | None = None, extra: dict[str, bytes] | None = None) -> Path:
        self._set_version(version)
        files = dict(extra or {})
        if faults:
            files["faults.json"] = json.dumps(faults).encode()
        for rel, data in files.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_bytes(data)
        try:
            return self._pack(include=files)  # read by computed paths: pack cannot see them by itself
        finally:
            for rel in files:
                (self.root / rel).unlink()


class ExampleApp(_Copy):
    """``build(version, port=..., ...)``: the bundled example packed at ``version``, serving ``port`` under pm2."""

    def __init__(self, work: Path) -> None:
        super().__init__(EXAMPLE, work, node_modules=True)  # check resolves hono in node_modules

    def build(
        self,
        version: str,
        *,
        port: int,
        pm2_port: int | None = None,
        edits: dict[str, tuple[str, str]] | None = None,
        force: bool = False,
    ) -> Path:
        """``pm2_port``: the port the release's pm2 process file says (a typo there, when it differs).

        ``edits``: file -> (old, new) text replaced in this build only. ``force``: pack what check blocks
        (recorded in the manifest), as `deploysafe pack --force` does.
        """
        self._set_version(version)
        (self.root / "src" / "version.js").write_text(
            f"export const VERSION = process.env.APP_VERSION ?? '{version}';\n"
        )
        ecosystem = self.root / "ecosystem.config.cjs"
        original = ecosystem.read_text()
        ecosystem.write_text(re.sub(r"PORT: \d+", f"PORT: {pm2_port or port}", original))
        saved = {}
        for rel, (old, new) in (edits or {}).items():
            saved[rel] = (self.root / rel).read_text()
            assert old in saved[rel], f"{old!r} not in {rel}"
            (self.root / rel).write_text(saved[rel].replace(old, new))
        try:
            return self._pack(force=force)
        finally:
            for rel, text in saved.items():
                (self.root / rel).write_text(text)
            ecosystem.write_text(original)  # last: an edit of the process file saved its rewritten port
