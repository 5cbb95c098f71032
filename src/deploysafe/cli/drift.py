"""`deploysafe drift`: which differences between this tree and production matter to the entry."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deploysafe.cli import output as outputs
from deploysafe.cli.app import main
from deploysafe.cli.output import format_for
from deploysafe.cli.progress import StageProgress
from deploysafe.cli.project import project_root, rebased_entries, say_root
from deploysafe.drift import drift
from deploysafe.drift import pull_needed as pull_files
from deploysafe.errors import ConfigError
from deploysafe.report import drift as drift_report
from deploysafe.report.console import rich_console

FORMATS = ("text", "json")


@main.command(name="drift")
@click.argument("root", default=".", type=click.Path(path_type=Path))
@click.option(
    "--against",
    "against",
    required=True,
    metavar="SOURCE",
    help="production: a directory, a .tar.gz/.tgz/.tar/.zip, ssh://user@host[:port]/path, or a [targets.NAME]",
)
@click.option("--entry", "entries", multiple=True, metavar="FILE", help="Entry file (repeatable). Default: detected.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Report format [text; or from --output's suffix].")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here (.txt or .json)."
)
@click.option("--pull-needed", is_flag=True, help="Copy the needed files from SOURCE into ROOT, then check again.")
@click.option("--overwrite", is_flag=True, help="With --pull-needed: replace a local file that is in the way.")
@click.option(
    "--skip", multiple=True, metavar="GLOB", help="Leave matching paths out of both inventories (repeatable)."
)
@click.option("--no-source-check", is_flag=True, help="Do not check whether SOURCE's own entries load completely.")
@click.option("--known-hosts", metavar="FILE", help="known_hosts for ssh sources [~/.ssh/known_hosts]")
@click.option("--identity", metavar="FILE", help="private key for ssh sources")
@click.option(
    "--trust-new-host-key",
    is_flag=True,
    default=None,
    help="accept and record an unknown ssh host key (never a changed one)",
)
@click.option("--no-cache", is_flag=True, help="Parse every file again instead of reusing cached results.")
@click.option("--verbose", "-v", is_flag=True, help="List every file of every class, unchanged files too.")
def drift_command(
    root: Path,
    against: str,
    entries: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    pull_needed: bool,
    overwrite: bool,
    skip: tuple[str, ...],
    no_source_check: bool,
    known_hosts: str | None,
    identity: str | None,
    trust_new_host_key: bool | None,
    no_cache: bool,
    verbose: bool,
) -> None:
    """Compare ROOT with production (SOURCE) and say which differences matter to the entry.

    Both trees are inventoried (path, size, sha256; node_modules, .git and --skip globs left out; on an
    ssh host the hashes are computed there by one command), then every difference is judged by the
    import graph of ROOT's entries:

    \b
      needed               only in SOURCE, and an entry's imports load it: copy it before deploying
      source-only-dormant  only in SOURCE, nothing the entries load needs it: do not ship it blindly
      changed              in both with other content; reachable or dormant
      local-only           only in ROOT; reachable or dormant

    A deployed target (a `current` link beside `releases/`) is compared through `current`, and
    SOURCE's own entries are checked: does production itself find every file it imports?

    \b
    Exit codes: 0 nothing needed from SOURCE and ROOT passes check;
                1 SOURCE has files the entries need, or ROOT is blocked (with --pull-needed: still
                  blocked after the copy, or a file was not copied);
                2 the comparison could not run: usage, configuration, SOURCE missing, unreachable,
                  unreadable or unsafe (an archive member outside the archive).

    \b
    Examples:
      deploysafe drift --against /srv/api-backup
      deploysafe drift api --against prod-2025-11-03.tar.gz --format json
      deploysafe drift --against ssh://deploy@app1.example.com/srv/api --pull-needed
      deploysafe drift --against production          # [targets.production] in deploysafe.toml
    """
    if overwrite and not pull_needed:
        raise ConfigError("--overwrite only applies with --pull-needed")
    fmt = fmt or (format_for(output, FORMATS) if output is not None else "text")
    found = project_root(root)
    say_root(found)
    root, entries = (found.path if found else root), rebased_entries(found, entries)
    progress = StageProgress(delay=0.5, enabled=fmt == "text")
    try:
        report = drift(
            root,
            against,
            entries=list(entries) or None,
            skip=list(skip),
            source_check=not no_source_check,
            known_hosts=known_hosts,
            identity=identity,
            trust_new_host_key=trust_new_host_key,
            cache=not no_cache,
            progress=progress,
        )
    finally:
        progress.close()
    pulled = pull_files(report, overwrite=overwrite, cache=not no_cache) if pull_needed else None
    if fmt == "json":
        outputs.write(output, drift_report.to_json(report, pulled))
    elif output is None:
        drift_report.render(report, pulled, rich_console(soft_wrap=True), verbose)
    else:
        with outputs.opened(output) as handle:
            drift_report.render(
                report, pulled, rich_console(file=handle, no_color=True, width=200, soft_wrap=True), verbose
            )
    sys.exit(pulled.exit_code if pulled is not None else report.exit_code)
