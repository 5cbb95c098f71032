"""Facts read back from the cache are the parser's facts: equal, of the very same classes, and as frozen as
the ones the parser made (the cache builds them without the classes' own __init__, see cache.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from deploysafe.check import cache
from deploysafe.check.cache import decode, encode
from deploysafe.ecosystems.node.parse.dialects import Dialect, dialect_for
from deploysafe.ecosystems.node.parser import NodeParser

SOURCE = b"""
import fs, { readFileSync as read, type Stats } from 'node:fs';
import * as path from './path-helpers.js';
export { join } from './join.js';
export * from './all.js';
import data from './data.json' with { type: 'json' };
export default class Service {}
export const twice = (x) => x * 2;
try { require('optional-native'); } catch {}
if (process.env.NODE_ENV !== 'production') require('pino-pretty');
const lazy = () => import('./lazy.js');
const url = new URL('./schema.sql', import.meta.url);
await Promise.resolve(read);
const broken = ;
"""


def walk(value: object):
    """Every fact object inside ``value``, itself included."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield value
        for field in dataclasses.fields(value):
            yield from walk(getattr(value, field.name))
    elif isinstance(value, (tuple, list, frozenset)):
        for item in value:
            yield from walk(item)


def test_facts_read_back_equal_the_parsed_ones_class_for_class_and_stay_frozen() -> None:
    facts = NodeParser().parse(SOURCE, dialect_for("service.ts") or Dialect.TYPESCRIPT)
    made = list(walk(facts))
    assert {type(x).__name__ for x in made} >= {"NodeModuleFacts", "Import", "ImportedName", "SyntaxIssue"}
    back = decode(encode(facts))
    assert back == facts and hash(back) == hash(facts)
    read = list(walk(back))
    assert [type(x) for x in read] == [type(x) for x in made]  # the classes themselves, never a stand-in
    assert read == made
    for obj in read:
        name = dataclasses.fields(obj)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)
        assert dataclasses.replace(obj) == obj


def test_a_fact_class_with_a_post_init_is_built_by_its_own_init() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        name: str

        def __post_init__(self) -> None:
            if not self.name:
                raise ValueError("a name is required")

    reduced = cache._reducer(Checked)
    assert Checked not in cache._TWINS  # no twin: __post_init__ must run
    rebuild, (cls, values) = reduced(Checked("x"))
    assert rebuild(cls, values) == Checked("x")
    with pytest.raises(ValueError):
        rebuild(cls, ("",))
