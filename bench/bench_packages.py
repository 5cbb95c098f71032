#!/usr/bin/env python3
"""Verdicts on widely used npm packages, with real Node as the oracle.

Each package of PACKAGES (widely used runtime packages, the list below) is imported from a small service
two ways, `require('P')` and `import * as m from 'P'`, once from a normal install of the whole list ("clean")
and, for packages that declare peer dependencies, once from an install of that package alone without its
peers (`npm install --legacy-peer-deps P`, "no peer"). Node runs every service; `deploysafe check` judges it. Each verdict is one of:

    agree         both say it loads, or both say it fails
    false block   Node loads it, deploysafe blocks it
    miss          Node fails loading it, deploysafe says deployable
                  ("unverified": deploysafe listed the edge as unverified itself; "evaluation": the module
                  loads and then throws while running, e.g. a browser global at top level, which no
                  import analysis predicts)

Then it times a check of one service importing the 50 largest of these packages, cold (empty facts cache)
and warm. The installs go to ~/.cache/deploysafe-bench/packages ($DEPLOYSAFE_BENCH_DIR overrides the folder) and are
reused by later runs.

    .venv/bin/python bench/bench_packages.py [--limit N] [--only NAME ...] [--json FILE] [--no-timing]
                                             [--variants clean peer] [--timing-only] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("DEPLOYSAFE_BENCH_DIR", Path.home() / ".cache" / "deploysafe-bench")) / "packages"
NODE_TIMEOUT = 30

_LISTED = """
lodash chalk react tslib axios commander debug express react-dom uuid fs-extra moment prop-types semver glob
yargs dotenv classnames body-parser colors async rxjs bluebird inquirer minimist mkdirp rimraf typescript
@babel/core underscore jquery ramda lodash-es date-fns dayjs zod yup joi ajv cheerio node-fetch cross-fetch ws
socket.io socket.io-client redis ioredis mongoose mongodb pg mysql2 sequelize knex jsonwebtoken bcryptjs passport
passport-local cors helmet morgan cookie-parser express-session multer compression koa @koa/router fastify
@hapi/hapi @nestjs/core @nestjs/common graphql @apollo/server graphql-tag winston pino bunyan log4js ora
log-symbols boxen figlet cli-table3 yargs-parser meow execa cross-spawn shelljs chokidar open got superagent
node-cron cron bullmq amqplib kafkajs mqtt @aws-sdk/client-s3 stripe nodemailer pdfkit xlsx csv-parse papaparse
xml2js fast-xml-parser js-yaml yaml ini json5 qs query-string validator deepmerge immer immutable redux
@reduxjs/toolkit react-redux mobx zustand core-js regenerator-runtime @babel/runtime reflect-metadata
class-validator class-transformer inversify i18next handlebars ejs pug mustache nunjucks marked markdown-it
highlight.js sanitize-html dompurify jsdom mime mime-types form-data formidable busboy archiver adm-zip jszip tar
iconv-lite safe-buffer readable-stream through2 eventemitter3 p-limit p-queue p-retry async-retry lru-cache
node-cache keyv ms pretty-bytes bytes big.js bignumber.js decimal.js nanoid @faker-js/faker chance color
tinycolor2 http-proxy http-proxy-middleware express-rate-limit express-validator serve-static connect
http-errors cookie tough-cookie jose jwks-rsa crypto-js node-forge tweetnacl bn.js graphql-request
@apollo/client swr @tanstack/react-query react-router react-router-dom vue preact styled-components
@emotion/react valibot @types/node drizzle-orm @sentry/node prom-client @opentelemetry/api moment-timezone
luxon date-fns-tz slugify change-case camelcase pluralize string-width strip-ansi ansi-styles supports-color
wrap-ansi kleur picocolors colorette prompts enquirer listr2 esbuild rollup postcss autoprefixer sass prettier
mocha chai sinon supertest nock axios-retry hono undici whatwg-url isomorphic-ws graphql-ws tiny-invariant
invariant object-assign deep-equal fast-deep-equal fast-json-stable-stringify json-stringify-safe flatted
superjson serialize-javascript clone rfdc hoist-non-react-statics react-is use-sync-external-store
@floating-ui/dom @popperjs/core chart.js leaflet source-map-support reselect cheerio-select entities htmlparser2
"""
PACKAGES = list(dict.fromkeys(_LISTED.split()))

LOAD_ERRORS = (
    "ERR_MODULE_NOT_FOUND",
    "Cannot find module",
    "Cannot find package",
    "SyntaxError",
    "ERR_UNKNOWN_FILE_EXTENSION",
    "ERR_REQUIRE_ESM",
    "ERR_REQUIRE_ASYNC_MODULE",
    "ERR_PACKAGE_PATH_NOT_EXPORTED",
    "ERR_UNSUPPORTED_DIR_IMPORT",
    "ERR_IMPORT_ATTRIBUTE",
    "ERR_IMPORT_ASSERTION",
    "does not provide an export",
)


@dataclass
class Row:
    package: str
    variant: str  # require/import, clean/no peer
    node_ok: bool
    node_error: str
    blocked: bool
    findings: list[str]
    unverified: list[str]
    seconds: float

    @property
    def verdict(self) -> str:
        if self.node_ok == (not self.blocked):
            return "agree"
        if self.node_ok:
            return "false block"
        if self.unverified:
            return "miss (unverified)"
        if not any(code in self.node_error for code in LOAD_ERRORS):
            return "miss (evaluation)"
        return "miss"


def install(tree: Path, packages: list[str], *extra: str) -> None:
    if (tree / ".installed").is_file() and json.loads((tree / ".installed").read_text()) == packages:
        return
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    (tree / "package.json").write_text(json.dumps({"name": "bench-packages", "private": True}) + "\n")
    argv = ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", *extra]
    done = subprocess.run([*argv, *packages], cwd=tree, stdout=subprocess.DEVNULL, timeout=3600)
    if done.returncode != 0:  # peers of several packages conflict: npm installs them anyway when forced
        subprocess.run([*argv, "--force", *packages], cwd=tree, check=True, stdout=subprocess.DEVNULL, timeout=3600)
    (tree / ".installed").write_text(json.dumps(packages))


def manifest(tree: Path, name: str) -> dict:
    try:
        return json.loads((tree / "node_modules" / name / "package.json").read_text())
    except (OSError, ValueError):
        return {}


def missing_peers(tree: Path, name: str) -> list[str]:
    peers = manifest(tree, name).get("peerDependencies") or {}
    return [p for p in peers if not (tree / "node_modules" / p).is_dir() and p != name]


def service(tree: Path, name: str, kind: str) -> tuple[Path, str]:
    safe = name.replace("/", "__").replace("@", "")
    root = tree / "services" / f"{safe}-{kind}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "svc", "private": True, "dependencies": {name: "*"}}))
    os.symlink(tree / "node_modules", root / "node_modules")
    if kind == "require":
        entry = "index.cjs"
        text = f"require({json.dumps(name)});\nprocess.exit(0);\n"
    else:
        entry = "index.mjs"
        text = f"import * as m from {json.dumps(name)};\nprocess.exit(0);\n"
    (root / entry).write_text(text)
    return root, entry


def run_one(tree: Path, name: str, kind: str, variant: str) -> Row:
    from deploysafe import check

    root, entry = service(tree, name, kind)
    try:
        done = subprocess.run(["node", entry], cwd=root, capture_output=True, text=True, timeout=NODE_TIMEOUT)
        node_ok, stderr = done.returncode == 0, done.stderr
    except subprocess.TimeoutExpired:
        node_ok, stderr = False, "timeout"
    lines = [line.strip() for line in stderr.splitlines()]
    loading = [line for line in lines if any(code in line for code in LOAD_ERRORS) and "Error" in line]
    error = next(iter(loading), next((line for line in lines if "Error" in line), stderr.strip()[:200]))
    started = time.perf_counter()
    try:
        report = check(root, [entry])
        findings = [str(f) for f in report.errors]
        unverified = [str(u) for u in report.unverified if u.reachable]
        blocked = bool(report.errors)
    except Exception as err:  # a crash of the check is a result to show, not a reason to stop the bench
        findings, unverified, blocked = [f"deploysafe raised {type(err).__name__}: {err}"], [], True
    return Row(name, variant, node_ok, error[:300], blocked, findings, unverified, time.perf_counter() - started)


def timing(tree: Path, packages: list[str], profile: Path | None = None) -> dict[str, object]:
    """One service importing the 50 largest packages (by files installed) that Node imports without an
    error, checked cold then warm (the warm run under cProfile into ``profile`` when given). The service
    sits beside the install, not in it, so the install's lockfile does not make the install its project."""

    def size(name: str) -> int:
        return sum(len(files) for _, _, files in os.walk(tree / "node_modules" / name))

    root = tree.parent / "largest-50"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    os.symlink(tree / "node_modules", root / "node_modules")
    largest: list[str] = []
    for name in sorted((p for p in packages if (tree / "node_modules" / p).is_dir()), key=size, reverse=True):
        probe = f"import * as m from {json.dumps(name)};\nprocess.exit(0);\n"
        loads = subprocess.run(["node", "--input-type=module", "-e", probe], cwd=root, capture_output=True)
        if loads.returncode == 0:
            largest.append(name)
        if len(largest) == 50:
            break
    (root / "package.json").write_text(json.dumps({"name": "svc", "dependencies": dict.fromkeys(largest, "*")}))
    lines = [f"import * as m{i} from {json.dumps(name)};" for i, name in enumerate(largest)]
    (root / "index.mjs").write_text("\n".join(lines) + "\n")
    times, summaries = {}, {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "DEPLOYSAFE_CACHE_DIR": cache}
        for run in ("cold", "warm"):
            profiled = ["-m", "cProfile", "-o", str(profile)] if profile and run == "warm" else []
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, *profiled, "-m", "deploysafe", "check", "--entry", "index.mjs", "--format", "json"],
                cwd=root,
                capture_output=True,
                text=True,
                env=env,
                timeout=1800,
            )
            times[run] = round(time.perf_counter() - started, 2)
            try:
                summaries[run] = json.loads(done.stdout)["summary"]
            except (ValueError, KeyError):
                summaries[run] = {"error": done.stderr[-300:]}
    return {"packages": largest, "seconds": times, "summary": summaries}


def summary(rows: list[Row]) -> None:
    """Agree / false block / miss counts per variant, and the check time per service."""
    if not rows:
        return
    variants = sorted({row.variant for row in rows})
    classes = ("agree", "false block", "miss", "miss (unverified)", "miss (evaluation)")
    print(f"\n{'variant':18}" + "".join(f"{c:>19}" for c in classes) + f"{'total':>8}")
    for variant in [*variants, "all"]:
        chosen = [row for row in rows if variant in ("all", row.variant)]
        counts = [sum(row.verdict == c for row in chosen) for c in classes]
        print(f"{variant:18}" + "".join(f"{n:>19}" for n in counts) + f"{len(chosen):>8}")
    seconds = sorted(row.seconds for row in rows)
    if seconds:
        print(f"check per service: median {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=len(PACKAGES), help="the first N packages of the list")
    parser.add_argument("--only", nargs="*", help="these packages (installed like the rest)")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--timing-only", action="store_true", help="only the check time of the 50 largest")
    parser.add_argument("--profile", type=Path, help="write the warm timing run's cProfile stats here")
    parser.add_argument("--variants", nargs="*", default=["clean", "peer"], choices=["clean", "peer"])
    args = parser.parse_args()
    packages = args.only or PACKAGES[: args.limit]
    clean = WORK / "clean"
    print(f"installing {len(packages)} packages in {WORK} ...", flush=True)
    install(clean, packages)
    rows: list[Row] = []
    for name in [] if args.timing_only else packages:
        if not (clean / "node_modules" / name).is_dir():
            print(f"  {name}: not installed, skipped")
            continue
        bare = WORK / "no-peer" / name.replace("/", "__").replace("@", "")
        if "peer" in args.variants and manifest(clean, name).get("peerDependencies"):
            install(bare, [name], "--legacy-peer-deps")
        for kind in ("require", "import"):
            if "clean" in args.variants:
                rows.append(run_one(clean, name, kind, f"{kind}, clean"))
            if "peer" in args.variants and bare.is_dir() and missing_peers(bare, name):
                rows.append(run_one(bare, name, kind, f"{kind}, no peer"))
        for row in rows[-4:]:
            if row.package == name and row.verdict != "agree":
                print(f"  {row.verdict:18} {name} ({row.variant}): node: {row.node_error or 'loads'}", flush=True)
                for line in (row.findings or row.unverified)[:2]:
                    print(f"      deploysafe: {line[:300]}")
    summary(rows)
    result: dict[str, object] = {"rows": [asdict(row) | {"verdict": row.verdict} for row in rows]}
    if not args.no_timing:
        result["largest"] = timed = timing(clean, packages, args.profile)
        print(f"check of a service importing the 50 largest: {timed['seconds']} {timed['summary']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
