"""Patterns that name one path component are matched without pathspec, and match exactly what pathspec's
GitIgnoreSpec (git's rules) matches; any other pattern still goes to pathspec."""

from __future__ import annotations

import pathspec
from hypothesis import given, settings
from hypothesis import strategies as st

from deploysafe import globs
from deploysafe.ecosystems.node.files import DEFAULT_EXCLUDES

NAME = st.text(alphabet="ab.-_*?", min_size=1, max_size=5)
PATTERN = st.builds(
    lambda lead, name, trail: lead + name + trail, st.sampled_from(["", "/"]), NAME, st.sampled_from(["", "/"])
)
COMPONENT = st.text(alphabet="ab.-_", min_size=1, max_size=5).filter(
    lambda name: name.strip(".") != ""
)  # no "." or ".."
PATH = st.builds(
    lambda parts, folder: "/".join(parts) + ("/" if folder else ""),
    st.lists(COMPONENT, min_size=1, max_size=4),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(PATTERN, min_size=1, max_size=4), st.lists(PATH, min_size=1, max_size=8))
def test_name_patterns_match_what_git_ignore_rules_match(patterns, paths):
    readable = [p for p in patterns if globs.NamePatterns.accepts(p)]
    if not readable:
        return
    ours = globs.NamePatterns(readable)
    theirs = pathspec.GitIgnoreSpec.from_lines(readable)
    for path in paths:
        assert ours.match_file(path) == theirs.match_file(path), (readable, path)


def test_node_default_excludes_and_a_usual_gitignore_do_not_need_pathspec():
    usual = [
        "# deps",
        "node_modules",
        "",
        "dist/",
        "/build",
        ".env",
        "*.log",
        "npm-debug.log*",
        ".DS_Store",
        "coverage",
    ]
    assert isinstance(globs.user_patterns(DEFAULT_EXCLUDES, "--exclude"), globs.NamePatterns)
    assert isinstance(globs.gitignore_lines(usual), globs.NamePatterns)
    spec = globs.gitignore_lines(usual)
    assert spec.match_file("node_modules/") and spec.match_file("a/node_modules/x.js") and spec.match_file("build/")
    assert not spec.match_file("src/build/") and not spec.match_file("dist") and not spec.match_file("src/index.js")


def test_other_patterns_still_follow_git_through_pathspec():
    for patterns in (["src/*.gen.js"], ["*.js", "!keep.js"], ["**/fixtures/"], ["[ab].js"], ["a\\*.js"]):
        matcher = globs.user_patterns(patterns, "--exclude")
        assert not isinstance(matcher, globs.NamePatterns), patterns
    negated = globs.user_patterns(["*.js", "!keep.js"], "--exclude")
    assert negated.match_file("x.js") and not negated.match_file("keep.js")
