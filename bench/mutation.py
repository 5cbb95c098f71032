"""Mutation testing of the modules whose mistakes would ship a broken release: do the tests notice?

cosmic-ray (PyPI) changes one thing at a time in a module — a comparison, a boolean, an `and`/`or`, a
`not`, a number, a loop that never runs, an exception type — and runs the module's tests on the result.
A mutant the tests still pass on ("survived") is a behaviour no test pins down. The run never touches this
checkout: the source and tests are copied to a scratch directory, and the tests import that copy
(PYTHONPATH), child deploysafe processes included.

A target's tests are a pool: one coverage run of the pool (pytest-cov, `--cov-context=test`) records which
test executes which line, and each mutant then runs only the tests that execute the statement it changed
(bench/mutation_tests.py); that coverage run is the baseline (the pool must pass unmutated). `--every-test`
runs the whole pool for every mutant instead, as cosmic-ray does by default.

Not CI: a module takes minutes to an hour on two cores (mutants x the time of their tests).

    pip install cosmic-ray pytest-cov     # or: pip install -e '.[mutation]'
    python bench/mutation.py                      # every target below
    python bench/mutation.py secrets health       # some of them
    python bench/mutation.py --list               # targets, their modules and tests
    python bench/mutation.py secrets --report bench/mutation-report.md
    python bench/mutation.py rules --work /tmp/mut --minutes 30   # stop after 30 min; run again to resume
    python bench/mutation.py rules --work /tmp/mut --recheck      # survivors again, against today's tests
    python bench/mutation.py rules/syntax_error rules/context --work /tmp/mut --minutes 10  # per rule module
    python bench/mutation.py resolver --only _has_scheme,_legacy_main --work /tmp/mut2  # changed functions

The report lists every surviving mutant (file, line, operator, the changed line) and the survival rate per
target; the README's Development section explains the ones left. Goal: at most 5 % survivors.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    module: str  # path relative to the repository root; modules move: update them here, nowhere else
    tests: tuple[str, ...]  # the pool of tests that pin this module's behaviour down (pytest arguments)
    timeout: float = 300.0  # per mutant: a mutant that hangs the tests counts as killed
    functions: tuple[str, ...] = ()  # only mutants inside these functions run (the rest are marked skipped)


# The node/tsx-confirmed verdicts, the rule registry, and the real-package setups (native addons, env
# files, stylesheets) that pin the rules no small fixture reaches.
RULE_TESTS = (
    "tests/check/test_verdicts_agree_with_node.py",
    "tests/check/test_version_dependent_verdicts.py",
    "tests/check/test_typescript_verdicts_under_tsx.py",
    "tests/check/test_syntax_second_opinion.py",
    "tests/check/test_rules_registry.py",
    "tests/check/test_service_setups.py",
    "tests/check/test_real_package_exports.py",
    "tests/check/test_folder_loads.py",  # a fault in a file a folder listing loads: "(loaded from routes/ by ...)"
    "tests/check/test_real_packages.py",  # tsc's output run by node: an alias tsc left as written
    "tests/ecosystems/node/rules",
)

# One place for the module list (the architecture work moves modules around).
TARGETS: dict[str, Target] = {
    "secrets": Target(
        "src/deploysafe/pack/secrets.py", ("tests/pack/test_secret_policy.py", "tests/pack/test_secrets.py")
    ),
    "health": Target("src/deploysafe/release/health.py", ("tests/release/test_health_gate.py",), timeout=60),
    "nodeversion": Target(
        "src/deploysafe/ecosystems/node/nodeversion.py",
        (
            "tests/check/test_version_dependent_verdicts.py",
            "tests/check/test_verdicts_agree_with_node.py",
            "tests/ecosystems/node/test_nodeversion.py",  # engines.node ranges against npm's semver
        ),
    ),
    "confirm": Target("src/deploysafe/ecosystems/node/confirm.py", ("tests/check/test_syntax_second_opinion.py",)),
    "rules": Target(
        "src/deploysafe/ecosystems/node/rules",  # one module per rule id
        RULE_TESTS,
    ),
    "resolver": Target(
        "src/deploysafe/ecosystems/node/resolve.py",
        (
            "tests/ecosystems/node/test_resolve_branches.py",
            "tests/check/test_typescript_runs.py",
            "tests/check/test_verdicts_agree_with_node.py",
            "tests/check/test_version_dependent_verdicts.py",
            "tests/check/test_typescript_verdicts_under_tsx.py",
            "tests/check/test_real_packages.py",
            "tests/check/test_service_setups.py",  # Yarn PnP, pnpm links, real installs
        ),
    ),
    # engine.py against the end-to-end deploys that run it (every deploy executes run_flow: the coverage
    # selection matters most here) and the decisions it hands off (ending.after_switch, the lock).
    "release-engine": Target(
        "src/deploysafe/release/engine.py",
        (
            "tests/release/test_decisions.py",
            "tests/release/test_local_deploy.py",
            "tests/release/test_interrupts.py",
            "tests/release/test_safety_rails.py",
        ),
        timeout=600,
    ),
    # The release engine's decisions, each a small function pinned down by fast tests (the deploys that
    # exercise them end to end are in tests/release): the circuit breaker and the verdicts on releases,
    # the fallback, the lock's dead-holder test and takeover, and how a run that failed after its switch ends.
    "breaker": Target("src/deploysafe/release/history.py", ("tests/release/test_decisions.py",), timeout=60),
    "fallback": Target("src/deploysafe/release/state.py", ("tests/release/test_decisions.py",), timeout=60),
    "lock": Target("src/deploysafe/release/lock.py", ("tests/release/test_decisions.py",), timeout=60),
    "ending": Target("src/deploysafe/release/ending.py", ("tests/release/test_decisions.py",), timeout=60),
    # One function of a larger module each: the status a killed run's record gets, the breaker's refusal.
    "recover": Target(
        "src/deploysafe/release/run.py",
        ("tests/release/test_decisions.py",),
        timeout=60,
        functions=("recover_interrupted",),
    ),
    "breaker-guard": Target(
        "src/deploysafe/release/steps/lock.py",
        ("tests/release/test_decisions.py",),
        timeout=60,
        functions=("guard_breaker",),
    ),
    # A narrower target that fits a time box: the resolver against its branch tests and the node verdicts.
    "resolver-branches": Target(
        "src/deploysafe/ecosystems/node/resolve.py",
        ("tests/ecosystems/node/test_resolve_branches.py", "tests/check/test_verdicts_agree_with_node.py"),
        timeout=240,
    ),
}

# One session per rule module as well ("rules/syntax_error"): cosmic-ray takes a package's mutants in no order
# of module, so within a time box only per-module sessions reach every module. They share the rules' pool and
# its coverage map.
RULES_DIR = TARGETS["rules"].module
for _path in sorted((REPO / RULES_DIR).glob("*.py")):
    if _path.name != "__init__.py":
        TARGETS[f"rules/{_path.stem}"] = Target(f"{RULES_DIR}/{_path.name}", RULE_TESTS)

# Operators that make a different program rather than a plausible slip are left out: every binary operator
# swapped for every other (a `+` on strings becoming `<<`), comparisons turned into identity tests.
EXCLUDED_OPERATORS = [
    r"core/ReplaceBinaryOperator_(?!Add_Sub|Sub_Add).*",
    r"core/ReplaceComparisonOperator_.*_(Is|IsNot)$",
    r"core/ReplaceComparisonOperator_(Is|IsNot)_(?!Is|IsNot).*",
    r"core/ReplaceComparisonOperator_(Eq|NotEq)_(Lt|LtE|Gt|GtE)$",
    r"core/ReplaceUnaryOperator_.*",
    r"core/VariableReplacer",
    r"core/VariableInserter",
    r"core/RemoveDecorator",
]


def scratch_copy(work: Path) -> Path:
    """The source and the tests in ``work`` (examples and node_modules are linked, not copied); an
    existing copy is kept, so an interrupted run resumes on the same code."""
    copy = work / "repo"
    if copy.is_dir():
        return copy
    copy.mkdir(parents=True)
    shutil.copytree(REPO / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tests", copy / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, copy / name)
    (copy / "examples").symlink_to(REPO / "examples")
    return copy


def pytest_options(target: Target) -> str:
    return f"-x -q -p no:cacheprovider --timeout={int(target.timeout)}"


def test_command(target: Target, selection: tuple[Path, Path] | None) -> str:
    """The command cosmic-ray runs per mutant: the whole pool, or (with a coverage map and the pristine
    module) only the tests that execute the mutated statement."""
    if selection is None:
        return f"{sys.executable} -m pytest {pytest_options(target)} {' '.join(target.tests)}"
    coverage_map, pristine = selection
    chooser = REPO / "bench" / "mutation_tests.py"
    return f"{sys.executable} {chooser} {coverage_map} {pristine} {target.module} -- {pytest_options(target)}"


def pool_name(target: Target) -> str:
    """Targets with the same tests over the same directory (the rules and each rule module) share a map."""
    directory = target.module if (REPO / target.module).is_dir() else str(Path(target.module).parent)
    key = hashlib.sha256("\0".join([directory, *target.tests]).encode()).hexdigest()[:12]
    return f"pool-{key}"


_MAPPED: set[Path] = set()  # the coverage maps recorded by this invocation


def record_coverage(name: str, target: Target, copy: Path, work: Path, env: dict[str, str]) -> Path:
    """Run the pool once under coverage with one context per test; write {"lines": {file: {line: [tests]}},
    "seconds": {test: duration}} as JSON. The pool must pass: this run is the baseline."""
    sys.path.insert(0, str(REPO / "bench"))
    from mutation_tests import coverage_map, durations

    measured = copy / target.module
    source = measured if measured.is_dir() else measured.parent  # coverage measures a directory, not a file
    pool = pool_name(target)
    data = work / f"{pool}.coverage"
    data.unlink(missing_ok=True)
    junit = work / f"{pool}-junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--cov={source}"]
    command += ["--cov-context=test", "--cov-report=", f"--junitxml={junit}", *target.tests]
    done = subprocess.run(
        command, cwd=copy, env={**env, "COVERAGE_FILE": str(data)}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{name}: the tests fail on the unmutated code:\n{done.stdout[-3000:]}")
    out = work / f"{pool}-coverage.json"
    _MAPPED.add(out)
    recorded = {"lines": coverage_map(data, copy.resolve()), "seconds": durations(junit, copy)}
    out.write_text(json.dumps(recorded, indent=1, sort_keys=True))
    return out


def config(target: Target, selection: tuple[Path, Path] | None) -> str:
    command = test_command(target, selection)
    excluded = ", ".join(json.dumps(e) for e in EXCLUDED_OPERATORS)
    return (
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        f"timeout = {target.timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n"
    )


def run(
    name: str,
    target: Target,
    copy: Path,
    work: Path,
    minutes: float | None,
    recheck: bool = False,
    select: bool = True,
) -> dict:
    stem = name.replace("/", "-")  # rules/context -> rules-context.sqlite
    session = work / f"{stem}.sqlite"
    fresh = not session.exists()
    env = {**os.environ, "PYTHONPATH": str(copy / "src") + os.pathsep + str(copy)}
    bindir = Path(sys.executable).parent
    # cosmic-ray mutates the module in place: a run stopped mid-mutant leaves it changed, so the module
    # (a file or a package) as first copied is kept aside and put back before every run.
    pristine = work / "pristine" / target.module
    if not pristine.exists():
        pristine.parent.mkdir(parents=True, exist_ok=True)
        _copy(copy / target.module, pristine)
    _copy(pristine, copy / target.module)
    started = time.monotonic()
    selection = None
    if select:
        coverage = work / f"{pool_name(target)}-coverage.json"
        if coverage not in _MAPPED and (recheck or not coverage.exists()):  # the copy's tests, mapped once
            coverage = record_coverage(name, target, copy, work, env)
        selection = (coverage, pristine)
    cfg = work / f"{stem}.toml"
    cfg.write_text(config(target, selection))

    def cr(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True, check=False, timeout=timeout)

    steps = [
        [str(bindir / "cosmic-ray"), "init", str(cfg), str(session)],
        [str(bindir / "cr-filter-operators"), str(session), str(cfg)],
    ]
    if not select:  # with selection the coverage run was the baseline
        steps.append([str(bindir / "cosmic-ray"), "baseline", str(cfg)])
    if recheck and fresh:
        raise SystemExit(f"{name}: no session in {work} to recheck")
    for step in steps if fresh else []:
        done = cr(*step)
        if done.returncode != 0:
            raise SystemExit(f"{name}: {' '.join(step[:2])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if fresh and target.functions:
        skip_outside(session, pristine, target.functions)
    execute = [str(bindir / "cosmic-ray"), "exec", str(cfg), str(session)]
    if recheck:
        execute = ["true"]
    with subprocess.Popen(
        execute, cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    ) as proc:
        try:
            proc.wait(timeout=minutes * 60 if minutes else None)
        except subprocess.TimeoutExpired:  # out of time: what ran is reported, the rest stays pending
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    _copy(pristine, copy / target.module)
    dump = cr(str(bindir / "cosmic-ray"), "dump", str(session)).stdout
    counts = {"killed": 0, "survived": 0, "incompetent": 0, "skipped": 0, "pending": 0}
    by_file: dict[str, dict[str, int]] = {}
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        per_file = by_file.setdefault(Path(item["mutations"][0]["module_path"]).name, {})
        if result is None:
            counts["pending"] += 1
            per_file["pending"] = per_file.get("pending", 0) + 1
            continue
        if result.get("worker_outcome") == "skipped":
            counts["skipped"] += 1
            continue
        outcome = result.get("test_outcome")
        mutation = item["mutations"][0]
        if outcome == "survived" and recheck and _killed_now(mutation, target, copy, pristine, env, selection):
            outcome = "killed"
        counts[outcome] = counts.get(outcome, 0) + 1
        per_file[outcome] = per_file.get(outcome, 0) + 1
        if outcome == "survived":
            row = mutation["start_pos"][0]
            module = Path(mutation["module_path"])
            source = (copy / module).read_text().splitlines()
            survivors.append(
                {
                    "file": module.as_posix(),
                    "line": row,
                    "operator": mutation["operator_name"].removeprefix("core/"),
                    "occurrence": mutation["occurrence"],
                    "code": source[row - 1].strip() if row <= len(source) else "",
                    "diff": result.get("diff", ""),
                }
            )
    tested = counts["killed"] + counts["survived"]
    return {
        "target": name,
        "module": target.module,
        "tests": list(target.tests),
        "counts": counts,
        "tested": tested,
        "survival": round(100 * counts["survived"] / tested, 1) if tested else 0.0,
        "seconds": round(time.monotonic() - started),  # of this invocation (a resumed run adds to earlier ones)
        "by_file": by_file,
        "survivors": sorted(survivors, key=lambda s: (s["file"], s["line"])),
    }


def skip_outside(session: Path, module: Path, functions: tuple[str, ...]) -> None:
    """Mark the session's mutants outside ``functions`` (top-level or method names) of ``module`` skipped."""
    import ast

    from cosmic_ray.work_db import use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in functions
    ]
    if not spans:
        raise SystemExit(f"{module}: none of {', '.join(functions)} found")
    with use_db(str(session)) as db:
        for item in list(db.pending_work_items):
            row = item.mutations[0].start_pos[0]
            if not any(first <= row <= last for first, last in spans):
                db.set_result(
                    item.job_id,
                    WorkResult(output="outside the target's functions", worker_outcome=WorkerOutcome.SKIPPED),
                )


def _copy(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(source, dest)


def _killed_now(
    mutation: dict,
    target: Target,
    copy: Path,
    pristine: Path,
    env: dict[str, str],
    selection: tuple[Path, Path] | None,
) -> bool:
    """Apply one surviving mutant again and run the target's tests as they are now (--recheck)."""
    apply = [str(Path(sys.executable).parent / "cosmic-ray"), "apply", mutation["module_path"]]
    apply += [mutation["operator_name"], str(mutation["occurrence"])]
    try:
        subprocess.run(apply, cwd=copy, env=env, check=True, capture_output=True)
        try:
            done = subprocess.run(
                shlex.split(test_command(target, selection)),
                cwd=copy,
                env=env,
                capture_output=True,
                timeout=target.timeout * 2,
            )
        except subprocess.TimeoutExpired:
            return True
        return done.returncode != 0
    finally:
        _copy(pristine, copy / target.module)


def markdown(results: list[dict]) -> str:
    lines = ["# Mutation testing (bench/mutation.py, cosmic-ray)", ""]
    lines += [
        "| target | module | mutants run | killed | survived | survival | not run yet | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        c = r["counts"]
        lines.append(
            f"| {r['target']} | `{r['module']}` | {r['tested']} | {c['killed']} | {c['survived']} | "
            f"{r['survival']} % | {c['pending']} | {r['seconds']} s |"
        )
    for r in results:
        if len(r["by_file"]) > 1:
            lines += ["", f"## {r['target']}: by module", "", "| module | killed | survived | not run yet |"]
            lines.append("| --- | --- | --- | --- |")
            for name, c in sorted(r["by_file"].items()):
                lines.append(f"| `{name}` | {c.get('killed', 0)} | {c.get('survived', 0)} | {c.get('pending', 0)} |")
    for r in results:
        lines += ["", f"## {r['target']}: surviving mutants", ""]
        if not r["survivors"]:
            lines.append("None.")
        for s in r["survivors"]:
            lines.append(f"- `{s['file']}:{s['line']}` {s['operator']} #{s['occurrence']}: `{s['code']}`")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--report", type=Path, help="write the report (Markdown) here as well")
    parser.add_argument("--json", type=Path, help="write the raw results (JSON) here")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--work", type=Path, help="keep the copy and sessions here; a second run resumes them")
    parser.add_argument("--minutes", type=float, help="stop each target after this long (the rest stays pending)")
    parser.add_argument(
        "--every-test",
        action="store_true",
        help="run the whole pool of tests for every mutant instead of the tests that execute the mutated statement",
    )
    parser.add_argument(
        "--only",
        metavar="FUNC[,FUNC]",
        help="mutate only these functions (or methods) of each target's module: a changed function, run fresh",
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="with --work: run the survivors of the kept sessions again against the tests as they are now",
    )
    args = parser.parse_args()
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name:15} {target.module}  <- {' '.join(target.tests)}")
        return 0
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    if shutil.which("cosmic-ray", path=str(Path(sys.executable).parent)) is None:
        parser.error("cosmic-ray is not installed in this Python: pip install cosmic-ray")
    results = []
    with tempfile.TemporaryDirectory(prefix="deploysafe-mutation-") as tmp:
        work = args.work or Path(tmp)
        copy = scratch_copy(work)
        if args.recheck:  # the code stays as it was mutated; the tests are today's
            shutil.rmtree(copy / "tests")
            shutil.copytree(REPO / "tests", copy / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        only = tuple(f for f in (args.only or "").split(",") if f)
        for name in args.targets or list(TARGETS):
            target = dataclasses.replace(TARGETS[name], functions=only) if only else TARGETS[name]
            result = run(name, target, copy, work, args.minutes, args.recheck, not args.every_test)
            results.append(result)
            print(
                f"{name}: {result['tested']} mutants, {result['counts']['survived']} survived "
                f"({result['survival']} %) in {result['seconds']} s",
                file=sys.stderr,
            )
    report = markdown(results)
    print(report)
    if args.report:
        args.report.write_text(report)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
