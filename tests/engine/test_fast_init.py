"""``fast_init`` gives frozen slots dataclasses an ``__init__`` that behaves exactly as the generated one."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from django_domainconnect.engine.fast_init import fast_init
from django_domainconnect.engine.spf import SpfRecord, Term
from django_domainconnect.engine.types import AppliedInstance, Conflict, OwnedRecord, Plan, Record


def _pair(**extra):
    """The same class twice: once as dataclasses makes it, once with ``fast_init``."""
    def make():
        @dataclasses.dataclass(frozen=True, slots=True, order=True)
        class Value:
            name: str
            ttl: int = 300
            tags: tuple[str, ...] = ()
            raw: dict = dataclasses.field(default_factory=dict, compare=False)
            derived: str = dataclasses.field(init=False, compare=False, default="")

            def __post_init__(self) -> None:
                object.__setattr__(self, "derived", self.name.upper())

        return Value
    return make(), fast_init(make())


@pytest.mark.parametrize("args,kwargs", [
    (("a",), {}), (("a", 60), {}), (("a",), {"tags": ("x",)}), ((), {"name": "b", "ttl": 1, "raw": {"k": 1}}),
])
def test_same_values_as_the_generated_init(args, kwargs):
    plain, fast = _pair()
    p, f = plain(*args, **kwargs), fast(*args, **kwargs)
    assert dataclasses.asdict(p) == dataclasses.asdict(f)
    assert (f.name, f.ttl, f.tags, f.raw, f.derived) == (p.name, p.ttl, p.tags, p.raw, p.derived)


def test_default_factory_gives_a_new_object_each_time():
    _plain, fast = _pair()
    assert fast("a").raw == {} and fast("a").raw is not fast("a").raw


@pytest.mark.parametrize("args,kwargs", [((), {}), (("a", 1, (), {}, "extra"), {}), (("a",), {"nope": 1}),
                                         (("a",), {"name": "b"}), (("a",), {"derived": "x"})])
def test_bad_calls_raise_type_error_like_the_generated_init(args, kwargs):
    plain, fast = _pair()
    with pytest.raises(TypeError):
        plain(*args, **kwargs)
    with pytest.raises(TypeError):
        fast(*args, **kwargs)


def test_still_frozen_hashable_ordered_and_replaceable():
    _plain, fast = _pair()
    value = fast("a", 60)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.name = "b"  # type: ignore[misc]
    assert hash(value) == hash(fast("a", 60)) and value == fast("a", 60) and fast("a") < fast("b")
    assert dataclasses.replace(value, ttl=1) == fast("a", 1)


def test_engine_types_keep_their_behaviour():
    rec = Record("www.example.com.", "A", 300, "192.0.2.1")
    assert rec == Record(name="www.example.com.", type="A", ttl=300, data="192.0.2.1")
    assert pickle.loads(pickle.dumps(rec)) == rec
    owned = OwnedRecord(rec)
    assert (owned.essential, owned.group_id, owned.spf_rules, owned.preexisting) == ("Always", None, None, False)
    inst = AppliedInstance("i", "p", "s", "", (owned,))
    assert inst.group_ids == () and inst.params == ()
    plan = Plan("example.com", "", "p", "s", (rec,), (), conflicts=(Conflict(rec, "why"),), new_instance=inst)
    assert plan.conflicts[0].caused_by is None and plan.warnings == ()
    assert Term("", "include", ":x").modifier is False and SpfRecord((), None).all_qualifier is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.ttl = 1  # type: ignore[misc]


def test_refuses_classes_it_cannot_speed_up():
    @dataclasses.dataclass
    class Mutable:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        x: int

    with pytest.raises(TypeError):
        fast_init(Mutable)
    with pytest.raises(TypeError):
        fast_init(KeywordOnly)


def test_derived_fields_are_set_by_the_generated_init_without_post_init():
    calls = []

    @dataclasses.dataclass(frozen=True, slots=True)
    class Value:
        name: str
        upper: str = dataclasses.field(init=False, compare=False)

        def __post_init__(self) -> None:
            calls.append(self.name)
            object.__setattr__(self, "upper", self.name.upper())

    plain = Value("ab")
    fast = fast_init(derived={"upper": "name.upper()"})(Value)
    value = fast("cd")
    assert value.upper == "CD" and calls == ["ab"]  # the generated init did not call __post_init__
    assert dataclasses.replace(value, name="ef").upper == "EF"
    assert plain.upper == "AB"


def test_derived_fields_must_be_init_false_fields():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Value:
        name: str

    with pytest.raises(TypeError):
        fast_init(derived={"name": "1"})(Value)
    with pytest.raises(TypeError):
        fast_init(derived={"missing": "1"})(Value)


def test_term_key_is_its_post_init_value():
    term = Term("~", "Include", ":Mail.Example")
    before = term.key
    term.__post_init__()  # what dataclasses' own __init__ would have done
    assert term.key == before == "include:mail.example"
