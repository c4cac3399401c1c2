"""shared.records behaves as the dataclasses it replaced: the same repr, ==, hash, defaults, frozen."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from shared.records import COMPILE_AFTER, FrozenInstanceError, Generic, field, fields, record, replace


@record(frozen=True)
class Frozen:
    code: str
    message: str
    path: str = "$"
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)


@record(frozen=True)
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass(frozen=True)
class FrozenDataclass:  # the same fields as a dataclass: what the record must match
    code: str
    message: str
    path: str = "$"
    tags: list[str] = dataclasses.field(default_factory=list)
    secret: str = dataclasses.field(default="", repr=False)


@record
class Mutable(Generic[int]):  # type: ignore[misc]
    name: str
    count: int = 0
    seen: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must not be negative")


def test_repr_eq_and_hash_are_a_dataclass_s():
    made = Frozen("X", "m", tags=["a"], secret="s")
    twin = FrozenDataclass("X", "m", tags=["a"], secret="s")
    assert repr(made) == repr(twin).replace("FrozenDataclass", "Frozen")
    assert made == Frozen("X", "m", tags=["a"], secret="s") and made != Frozen("X", "other")
    assert made != twin  # another class: not equal, as with dataclasses
    assert len({Point(1), Point(1), Point(1, 2)}) == 2 and hash(Point(1)) == hash(Point(1))
    with pytest.raises(TypeError):  # a list field: unhashable, as with dataclasses
        hash(made)


def test_frozen_refuses_assignment_and_deletion():
    made = Frozen("X", "m")
    with pytest.raises(FrozenInstanceError):
        made.code = "Y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del made.code  # type: ignore[misc]
    assert made.code == "X"


def test_defaults_factories_and_post_init():
    first, second = Mutable("a"), Mutable("b", 2)
    first.seen["k"] = 1
    assert (first.count, second.count, second.seen) == (0, 2, {})
    first.count = 5  # not frozen
    assert first == Mutable("a", 5, {"k": 1})
    assert Mutable.__hash__ is None  # a mutable record is unhashable, as a dataclass with eq
    with pytest.raises(ValueError, match="negative"):
        Mutable("c", -1)


def test_replace_copies_with_changes_and_runs_post_init_again():
    made = Frozen("X", "m", tags=["a"])
    changed = replace(made, path="$.a")
    assert (changed.path, changed.tags, made.path) == ("$.a", ["a"], "$")
    with pytest.raises(ValueError):
        replace(Mutable("a"), count=-1)
    assert [f.name for f in fields(Frozen)] == ["code", "message", "path", "tags", "secret"]


@pytest.mark.parametrize(
    "args, kwargs, wrong",
    [
        ((), {}, "missing.*'code'"),  # the messages of the first __init__ and of the compiled one alike
        (("X",), {"message": "m", "nope": 1}, "unexpected keyword"),
        (("X", "m"), {"code": "Y"}, "multiple values"),
        (("X", "m", "$", [], "", "extra"), {}, "positional arguments? but"),
    ],
)
def test_wrong_arguments_are_a_type_error(args, kwargs, wrong):
    with pytest.raises(TypeError, match=wrong):
        Frozen(*args, **kwargs)


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError, match="follows"):

        @record
        class Gap:
            first: int = 0
            second: int  # type: ignore[misc]


def test_a_class_constructed_often_gets_a_compiled_init_that_behaves_the_same():
    @record(frozen=True)
    class Hot:
        name: str
        items: list[int] = field(default_factory=list)
        count: int = 1

        def __post_init__(self) -> None:
            if self.count < 0:
                raise ValueError("negative")

    first = Hot.__init__
    early = [Hot("a"), Hot("b", [1]), Hot(name="c", count=2)]
    for _ in range(COMPILE_AFTER):
        Hot("x")
    assert Hot.__init__ is not first  # compiled
    late = [Hot("a"), Hot("b", [1]), Hot(name="c", count=2)]
    assert late == early and late[0].items is not Hot("a").items
    with pytest.raises(ValueError):
        Hot("d", count=-1)
    with pytest.raises(FrozenInstanceError):
        late[0].name = "z"  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing.*'name'"):
        Hot()  # type: ignore[call-arg]


def test_records_pickle():
    made = Frozen("X", "m", tags=["a"])
    assert pickle.loads(pickle.dumps(made)) == made
