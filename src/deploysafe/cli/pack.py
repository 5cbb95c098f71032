"""`deploysafe pack` and `deploysafe verify`: build a release artifact of exactly what the entries load,
and judge one (intact, safe to unpack, self-contained)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deploysafe.artifact import oci
from deploysafe.cli.app import main
from deploysafe.cli.check import target_node
from deploysafe.cli.progress import StageProgress
from deploysafe.cli.project import project_root, rebased_entries, say_root
from deploysafe.config import Config, ConfigError, load_file
from deploysafe.config import load as load_config
from deploysafe.image.boot import boot_image, is_image
from deploysafe.image.build import build_image
from deploysafe.image.engine import find_engine
from deploysafe.image.settings import image_settings
from deploysafe.pack import PackBlocked
from deploysafe.pack import pack as run_pack
from deploysafe.pack import verify as run_verify
from deploysafe.pack.boot import DEADLINE, BootResult, boot_artifact
from deploysafe.release.health import Probe, parse_probe
from deploysafe.report import text as text_report
from deploysafe.report.console import rich_console
from deploysafe.report.image import render_image, render_image_verify
from deploysafe.report.pack import render_pack, render_verify

DEFAULT_IMAGES = ".deploysafe/images"
_LABELS = {"checking": "checking", "hashing": "hashing", "writing": "writing archive", "verifying": "verifying"}


@main.command()
@click.argument("root", default=".", type=click.Path(path_type=Path))
@click.option("--entry", "entries", multiple=True, metavar="FILE", help="Entry file (repeatable). Default: detected.")
@click.option(
    "--output",
    "-o",
    metavar="PATH",
    help="Artifact file, or a folder (existing, or ending in /) to write <id>.tar.gz into. "
    "Default: ROOT/.deploysafe/artifacts/.",
)
@click.option("--include", multiple=True, metavar="GLOB", help="Also pack files matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Never pack files matching GLOB (repeatable).")
@click.option(
    "--allow-secret",
    "allow_secrets",
    multiple=True,
    metavar="PATTERN",
    help="Let files matching PATTERN in although they look secret or git ignores them (repeatable).",
)
@click.option("--force", is_flag=True, help="Pack although check finds errors (recorded in the manifest).")
@click.option("--with-node-modules", is_flag=True, help="Also pack the production node_modules (offline hosts).")
@click.option("--node", "node_version", metavar="VERSION", help="Node version production runs (e.g. 20.19).")
@click.option("--no-verify", is_flag=True, help="Skip unpacking and re-checking what was written.")
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Pack although a reachable edge is computed at run time and no include covers it (recorded).",
)
@click.option("--boot", "boot", is_flag=True, help="Prove the artifact starts: unpack, install, start, probe.")
@click.option(
    "--health", "health_url", metavar="URL", help="With --boot: the health URL to pass (its port is replaced)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json", "oci")),
    default="text",
    show_default=True,
    help="oci: also write an OCI image of the artifact (-o: its layout folder, or a .tar).",
)
@click.option(
    "--to",
    "target",
    metavar="TARGET",
    help="Pack for this deploy target: check against the Node version its last good deploy recorded; with "
    "--boot, its health probe and boot_deadline; with --format oci, its health settings for the image.",
)
@click.option("--verbose", "-v", is_flag=True, help="List every packed file with the reason it is in.")
def pack(
    root: Path,
    entries: tuple[str, ...],
    output: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    allow_secrets: tuple[str, ...],
    force: bool,
    with_node_modules: bool,
    node_version: str | None,
    no_verify: bool,
    allow_unverified: bool,
    boot: bool,
    health_url: str | None,
    fmt: str,
    target: str | None,
    verbose: bool,
) -> None:
    """Build a release artifact holding exactly what the entries in ROOT load.

    Runs `check` first and refuses when it finds errors (exit 1) unless --force. The
    artifact (a deterministic .tar.gz, see docs/artifact.md) holds every module the entries
    load, package.json and the lockfile, files the code reads by a literal path such as
    new URL('./schema.sql', import.meta.url) or path.join(__dirname, 'views'), and the
    files your include globs match. Dormant files are left out, and so are secrets: .env*,
    *.pem, *.key, SSH keys, an .npmrc with a token, and files git ignores (code the entries
    load ships even when ignored, e.g. a built dist/). Both are listed. An include glob that
    matches a secret is refused unless --allow-secret names it. node_modules stays out (the
    host runs npm ci) unless --with-node-modules.

    The same tree always gives the same bytes: the name <name>-<version>-<hash>.tar.gz
    changes exactly when a packed file does. After writing, pack unpacks the artifact,
    checks every sha256 and runs check on the unpacked tree (see `deploysafe verify`).
    With --boot it then proves the artifact starts: unpacked, production dependencies
    installed from its lockfile (the project's node_modules hard-linked when the lockfile
    is the same), the start command run with a spare PORT, and the --health URL passing
    (without one: the process still up after 3 s). --to TARGET takes the probe (health,
    health_expect, health_timeout) and boot_deadline from [targets.TARGET] instead. A
    failed boot names the first error line of the output and exits 1. With --format json
    the printed manifest gets a "boot" member holding the boot result.

    Files loaded by computed paths (migrations, public/, views/) go in deploysafe.toml:

    \b
      [pack]
      include = ["migrations/**", "public/**"]
      exclude = ["public/**/*.map"]
      allow_secrets = ["certs/ca.pem"]   # a public CA bundle, not a secret

    \b
    Exit codes: 0 packed, 1 refused (check errors, a secret an include matches,
    not self-contained) or failed, 2 usage or configuration error.

    \b
    Examples:
      deploysafe pack                                # this directory, into .deploysafe/artifacts/
      deploysafe pack examples/seed-api-fixed -o dist/
      deploysafe pack --include 'migrations/**' --include 'views/**'
      deploysafe pack --include 'certs/**' --allow-secret 'certs/ca.pem'
      deploysafe pack --with-node-modules -o release.tar.gz   # for a host without a registry
      deploysafe pack --format json | jq '.files | length'    # prints the manifest
      deploysafe pack --format oci -o api.tar      # the OCI image of exactly the artifact (see README)
    """
    found = project_root(root)
    say_root(found)
    root, entries = (found.path if found else root), rebased_entries(found, entries)
    boot_artifact_now = boot and fmt != "oci"
    probe, deadline = _probe(health_url, target, load_config(root)) if boot_artifact_now else (None, DEADLINE)
    progress = StageProgress(labels=_LABELS)
    settings = image_settings(root, target) if fmt == "oci" else None  # bad config fails before packing
    engine = find_engine() if settings is not None else None  # and so does a missing container engine
    try:
        result = run_pack(
            root,
            list(entries) or None,
            output=None if settings is not None else output,
            include=include,
            exclude=exclude,
            allow_secrets=allow_secrets,
            force=force,
            with_node_modules=with_node_modules,
            node_version=target_node(root, node_version, target),
            verify_after=not no_verify,
            allow_unverified=allow_unverified,
            progress=progress,
        )
    except PackBlocked as blocked:
        progress.close()
        if fmt == "json":
            sys.stdout.write(json.dumps(blocked.report.to_json(), indent=2, ensure_ascii=False) + "\n")
        else:
            text_report.render(blocked.report, rich_console())
        click.echo(f"deploysafe: error: {blocked}", err=True)
        sys.exit(blocked.exit_code)
    finally:
        progress.close()
    booted = boot_artifact(result.path, probe=probe, project=root, deadline=deadline) if boot_artifact_now else None
    if fmt == "json":
        if booted is None:
            sys.stdout.write(result.manifest_bytes.decode("utf-8"))
        else:
            document = {**json.loads(result.manifest_bytes), "boot": booted.to_json()}
            sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"packed {result.id} → {result.path}", err=True)
    else:
        render_pack(result, rich_console(), verbose=verbose)
    if settings is not None:
        image_path = Path(output) if output else root / DEFAULT_IMAGES / result.id
        built = build_image(result.path, image_path, settings, engine=engine)
        render_image(built, rich_console())
        if boot:
            _boot_image(built.path, health_url)
        return
    if booted is not None:
        _say_boot(booted)
        if not booted.ok:
            sys.exit(1)


def _boot_image(image: Path, health_url: str | None) -> None:
    booted = boot_image(image, health_url=health_url)
    verdict = "BOOTS" if booted.ok else "DOES NOT BOOT"
    click.echo(f"boot: {verdict}: {booted.line()} · {booted.seconds:.2f} s", err=True)
    if not booted.ok:
        sys.exit(1)


def _probe(health_url: str | None, target: str | None, config: Config) -> tuple[Probe | None, float]:
    """The boot test's health probe and deadline: --health, else the probe and boot_deadline of the
    [targets.TARGET] --to names, else no probe."""
    table = config.targets.get(target) if target else None
    if target and table is None:
        known = ", ".join(sorted(config.targets)) or "none"
        raise ConfigError(
            f"unknown target {target!r}: no [targets.{target}] in {config.source} (known targets: {known})"
        )
    deadline = table.boot_deadline if table is not None else DEADLINE
    if health_url:
        return parse_probe(health_url), deadline
    if table is None or not table.health:
        return None, deadline
    return parse_probe(table.health, expect=table.health_expect, timeout=table.health_timeout), deadline


def _say_boot(booted: BootResult) -> None:
    """The boot test's verdict: one line on stderr."""
    verdict = "BOOTS" if booted.ok else "DOES NOT BOOT"
    click.echo(f"boot: {verdict}: {booted.line()} · {booted.seconds:.2f} s", err=True)


@main.command()
@click.argument("artifact", type=click.Path(path_type=Path))
@click.option("--install", is_flag=True, help="Install production dependencies from the packed lockfile first.")
@click.option(
    "--into",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Unpack into DIR (new or empty) and leave it there.",
)
@click.option("--boot", "boot", is_flag=True, help="Also prove it starts: unpack, install, start, probe.")
@click.option(
    "--health", "health_url", metavar="URL", help="With --boot: the health URL to pass (its port is replaced)."
)
@click.option(
    "--to",
    "target",
    metavar="TARGET",
    help="With --boot: the health probe of [targets.TARGET] in deploysafe.toml (of --config, else here).",
)
@click.option("--config", "config_path", metavar="FILE", help="deploysafe.toml to read --to from.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def verify(
    artifact: Path,
    install: bool,
    into: Path | None,
    boot: bool,
    health_url: str | None,
    target: str | None,
    config_path: str | None,
    fmt: str,
) -> None:
    """Check that ARTIFACT is intact, safe to unpack and self-contained.

    Unpacks it into a temporary folder, refusing any member that is absolute, has a '..'
    segment, is a symlink or other special file, is not in the manifest, or whose size or
    sha256 differs from it. Then runs `check` on the unpacked tree with the manifest's
    entries. Without --install, imports of packages the lockfile will install are listed,
    not judged; with it, production dependencies are installed first (npm ci --omit=dev,
    or yarn/pnpm for their lockfiles) and checked too.

    \b
    Exit codes: 0 self-contained, 1 rejected or not self-contained, 2 usage error.

    \b
    Examples:
      deploysafe verify .deploysafe/artifacts/seed-api-1.4.0-8776232b.tar.gz
      deploysafe verify dist/seed-api-1.4.0-8776232b.tar.gz --install
      deploysafe verify release.tar.gz --into /tmp/release --format json
    """
    if target and not boot:
        raise ConfigError("--to TARGET names the health probe of the boot test: give --boot with it")
    if is_image(artifact):
        _verify_image(artifact, boot, health_url)
        return
    probe, deadline = None, DEADLINE
    if boot and target:
        config = load_file(Path(config_path)) if config_path else load_config(Path.cwd())
        probe, deadline = _probe(health_url, target, config)
    elif boot and health_url:
        probe = parse_probe(health_url)
    console = rich_console(stderr=True)
    bar: Progress | None = None
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if not console.is_terminal or time.monotonic() - started < 1.0:
                return
            bar = Progress(TextColumn("unpacking"), BarColumn(), TimeElapsedColumn(), console=console, transient=True)
            bar.start()
            bar.add_task("unpacking", total=total)
        bar.update(bar.task_ids[0], completed=done, total=total)

    try:
        result = run_verify(artifact, install=install, into=into, progress=progress)
    finally:
        if bar is not None:
            bar.stop()
    booted = boot_artifact(artifact, probe=probe, deadline=deadline) if boot and result.exit_code == 0 else None
    if fmt == "json":
        document = {**result.to_json(), "boot": booted.to_json() if booted is not None else None}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    elif booted is None or booted.ok:
        render_verify(result, rich_console())
    if booted is not None:
        _say_boot(booted)
        if not booted.ok:
            sys.exit(1)
    elif boot:
        click.echo("boot: not run: the artifact did not verify", err=True)
    sys.exit(result.exit_code)


def _verify_image(path: Path, boot: bool, health_url: str | None) -> None:
    """An OCI image: its blobs match their digests (a layout folder), then the boot test in the engine."""
    if path.is_dir():
        image = oci.read_layout(path)
        oci.verify_blobs(image)
        render_image_verify(image, rich_console())
    if boot:
        _boot_image(path, health_url)
