"""deploysafe.toml is typed: a mistyped table, key or value is a one-line error (exit 2) naming the key path
and the nearest valid key, whichever command reads the file; what it declares is honoured."""

from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from deploysafe import config, release
from deploysafe.errors import ConfigError
from tests.support.projects import run_cli, run_node, write_tree

APP = {
    "package.json": {"name": "app", "version": "1.0.0", "scripts": {"start": "node src/server.js"}},
    "src/server.js": "require('./a');\nconsole.log('loaded');\n",
    "src/a.js": "module.exports = 1;\n",
    "src/worker.js": "require('./missing');\n",  # dormant unless [check] entries names it
}


def _error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _app(tmp_path: Path, toml: str) -> Path:
    return write_tree(tmp_path / "app", {**APP, "deploysafe.toml": toml})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[check]\nentriez = ["src/worker.js"]\n', "[check] unknown key 'entriez' (did you mean 'entries'?)"),
        ('[pakc]\ninclude = ["x"]\n', "unknown table [pakc] (did you mean [pack]?)"),
        ('[pack]\nincldue = ["x"]\n', "[pack] unknown key 'incldue' (did you mean 'include'?)"),
        ("[drift]\nskip = 3\n", "[drift] skip must be a list of strings"),
        ("[check]\nnode = 20\n", "[check] node must be a string"),
        ('[check]\ntypescript = "tsx"\n', '[check] typescript must be one of "compiled", "source"'),
        ('[targets.prod]\npath = "/srv/x"\nkep = 3\n', "[targets.prod] unknown key 'kep' (did you mean 'keep'?)"),
        ('[targets.prod]\npath = "/srv/x"\nkeep = "3"\n', "[targets.prod] keep must be a whole number"),
        ('[targets.prod]\nhost = "ssh://a@b"\n', "[targets.prod] path is required"),
        (
            '[targets.prod]\npath = "/srv/x"\nbefore_swich = "npm run migrate"\n',
            "[targets.prod] unknown key 'before_swich' (did you mean 'before_switch'?)",
        ),
        ('[fleets.web]\ntargets = ["web1"]\n', "[fleets.web] no target 'web1' in [targets] (targets: none)"),
        (
            '[targets.prod]\nswarm = "api"\npath = "/srv/x"\n',
            "[targets.prod] swarm is a service, not a place on a host: drop host and path",
        ),
    ],
)
def test_a_config_mistake_stops_check_with_the_key_path_and_the_nearest_key(tmp_path, toml, message):
    root = _app(tmp_path, toml)
    assert _error(run_cli("check", str(root))) == f"deploysafe: error: deploysafe.toml: {message}"


def test_every_command_that_reads_the_file_refuses_the_same_typo(tmp_path):
    root = _app(tmp_path, '[targets.prod]\npath = "/srv/x"\nhealth_passes = 0\n')
    expected = "deploysafe: error: deploysafe.toml: [targets.prod] health_passes must be a whole number, at least 1"
    assert _error(run_cli("pack", str(root), "-o", str(tmp_path / "dist"))) == expected
    assert _error(run_cli("drift", str(root), "--against", str(root))) == expected
    assert _error(run_cli("status", "--to", "prod", cwd=root)) == expected
    assert not (tmp_path / "dist").exists()


def test_a_swarm_target_is_refused_by_host_commands_and_wants_an_image(tmp_path):
    root = _app(tmp_path, '[targets.prod]\nswarm = "api"\n')
    done = run_cli("unlock", "--to", "prod", cwd=root)
    assert done.returncode == 2
    assert _error(done).endswith(
        "--to prod is a swarm service: unlock works on hosts (deploy, rollback, releases and status work here)"
    )
    done = run_cli("deploy", "package.json", "--to", "prod", cwd=root)
    assert done.returncode == 2 and "package.json: not an OCI image; the swarm target prod deploys a" in _error(done)


def test_a_typo_in_a_fleets_target_name_suggests_the_target(tmp_path):
    toml = (
        '[targets.web1]\npath = "/srv/a"\n[targets.web2]\npath = "/srv/b"\n[fleets.web]\ntargets = ["web1", "wbe2"]\n'
    )
    root = _app(tmp_path, toml)
    line = _error(run_cli("releases", "--fleet", "web", cwd=root))
    assert line.endswith("[fleets.web] no target 'wbe2' in [targets] (did you mean 'web2'?)")


def test_configured_entries_are_checked_and_node_agrees(tmp_path):
    root = _app(tmp_path, '[check]\nentries = "src/worker.js"\n')  # a lone string is a list of one
    done = run_cli("check", str(root), "--format", "json")
    report = json.loads(done.stdout)
    assert report["entries"] == ["src/worker.js"]
    assert done.returncode == 1
    assert run_node(root, "src/worker.js").returncode != 0  # node fails on it too


def test_a_config_given_by_name_is_checked_and_named_in_its_errors(tmp_path):
    other = tmp_path / "staging.toml"
    other.write_text('[targets.stage]\npath = "/srv/x"\nhelth = "http://127.0.0.1:1/"\n')
    line = _error(run_cli("status", "--to", "stage", "--config", str(other), cwd=tmp_path))
    assert line == "deploysafe: error: staging.toml: [targets.stage] unknown key 'helth' (did you mean 'health'?)"


def test_the_python_api_checks_a_table_given_as_a_dict(tmp_path):
    with pytest.raises(ConfigError, match=r"\[targets.a\] env: '1X' is not a valid variable name"):
        release.target("a", config={"targets": {"a": {"path": str(tmp_path), "env": {"1X": "y"}}}})
    with pytest.raises(ConfigError, match=r"shared: '../etc' must be relative"):
        release.target("a", config={"targets": {"a": {"path": str(tmp_path), "shared": ["../etc"]}}})
    with pytest.raises(ConfigError, match=r"unknown target setting 'helth' \(did you mean 'health'\?\)"):
        release.target(str(tmp_path), config={}, helth="http://127.0.0.1:1/")
    with pytest.raises(ConfigError, match="keep must be a whole number, at least 2"):
        release.target(str(tmp_path), config={}, keep=1)


def test_a_loaded_config_is_typed_and_its_defaults_are_the_documented_ones(tmp_path):
    write_tree(
        tmp_path, {"deploysafe.toml": '[targets.p]\nhost = "deploy@h"\npath = "/srv/a"\nenv = { PORT = 3000 }\n'}
    )
    loaded = config.load(tmp_path)
    assert loaded.targets["p"].env == {"PORT": "3000"}
    assert loaded.targets["p"].keep == 5 and loaded.pack.include == ()
    spec = release.target("p", config=loaded)
    assert (spec.url, spec.path, spec.name, spec.keep) == ("ssh://deploy@h/srv/a", "/srv/a", "p", 5)
    assert config.load(tmp_path / "nowhere") == config.Config()


def test_a_config_without_a_file_is_the_defaults_frozen_and_builds_only_the_tables_read(tmp_path):
    """``Config()`` builds a table's defaults when it is first read; it compares, prints and pickles as the
    whole of its tables, and like every table it cannot be changed."""
    written = write_tree(tmp_path / "all", {"deploysafe.toml": "[check]\n[pack]\n[drift]\n[image]\n[kubernetes]\n"})
    assert config.load(tmp_path) == config.Config() == config.load(written)  # no file, or one setting nothing
    assert config.load(tmp_path) != config.parse({"pack": {"include": ["x"]}})
    assert config.Config().image.user == "1000:1000" and config.Config().targets == {}
    assert pickle.loads(pickle.dumps(config.Config(source="x.toml"))) == config.Config(source="x.toml")
    assert repr(config.Config()).startswith("Config(check=CheckTable(entries=(), ")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.Config().source = "other.toml"  # type: ignore[misc]
    # a check of a project without the file loads no table but [check]
    service = write_tree(tmp_path / "svc", {"package.json": {"name": "svc", "main": "index.js"}, "index.js": ""})
    code = "import deploysafe, sys; assert deploysafe.check(sys.argv[1]).deployable; print(*sys.modules)"
    done = subprocess.run([sys.executable, "-c", code, str(service)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "deploysafe.config" in loaded and "deploysafe.check.pipeline" in loaded
    assert not [name for name in loaded if name.startswith("deploysafe.config.")], done.stdout
