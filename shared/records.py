"""Records: the few dataclass features ``shared`` uses, at a fraction of the import cost.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``, ``typing``...) and
execs three or four generated methods per class: several milliseconds of every cold start, on
paths that change nothing (a timer tick, a trace that is not a creation). :func:`record` reads the
class's annotations and defaults and adds ``__init__`` (no generated source: construction is a few
dict operations, about as fast as a dataclass's), ``__repr__``, ``__eq__`` (and ``__hash__`` when frozen) and, with
``frozen=True``, a ``__setattr__``/``__delattr__`` that refuse. What a class defines itself is
kept, as with dataclasses. :func:`replace` and :func:`fields` stand in for their dataclasses
namesakes; :func:`field` takes ``default``, ``default_factory``, ``repr`` and ``compare``.

Type checkers see :func:`record` as a dataclass transform (PEP 681). ``Generic`` and ``overload``
are ``typing``'s to them, and stand-ins at run time.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar
    from typing import Generic as Generic
    from typing import overload as overload

    from typing_extensions import dataclass_transform

    _T = TypeVar("_T")
else:

    def dataclass_transform(**_options):
        return lambda decorator: decorator

    class Generic:
        """``class C(Generic[T])`` without ``typing``: subscripting gives the class back."""

        __slots__ = ()

        def __class_getitem__(cls, _parameters):
            return cls

    def overload(function):
        """``typing.overload`` without ``typing``: the last definition (the implementation) wins."""
        return function


__all__ = ["FrozenInstanceError", "Generic", "field", "fields", "overload", "record", "replace"]

_MISSING = object()  # no default


class FrozenInstanceError(AttributeError):
    """Assigning to (or deleting) a field of a frozen record."""


class Field:
    """One field of a record: its name, default (or factory) and whether repr and == show it."""

    __slots__ = ("name", "default", "default_factory", "repr", "compare")

    def __init__(
        self, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True, compare: bool = True
    ):
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("a field takes a default or a default_factory, not both")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare


if TYPE_CHECKING:

    @overload
    def field(*, default: _T, repr: bool = True, compare: bool = True) -> _T: ...
    @overload
    def field(*, default_factory: Callable[[], _T], repr: bool = True, compare: bool = True) -> _T: ...
    @overload
    def field(*, repr: bool = True, compare: bool = True) -> Any: ...


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True, compare: bool = True) -> Any:
    """A field's options, as the class attribute's value (``x: list = field(default_factory=list)``)."""
    return Field(default, default_factory, repr, compare)


def fields(record_or_class: object) -> tuple[Field, ...]:
    """The record's fields, in order."""
    return tuple(record_or_class.__record_fields__.values())  # type: ignore[attr-defined]


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of ``obj`` with ``changes`` (through ``__init__``: a ``__post_init__`` runs again)."""
    for name in obj.__record_fields__:  # type: ignore[attr-defined]
        if name not in changes:
            changes[name] = getattr(obj, name)
    return type(obj)(**changes)


@dataclass_transform(field_specifiers=(field, Field))
def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """Class decorator: ``@record`` or ``@record(frozen=True)``."""

    def build(target: type) -> type:
        return _build(target, frozen)

    return build if cls is None else build(cls)


def _own_fields(cls: type) -> dict[str, Field]:
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        found.update(getattr(base, "__record_fields__", {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        if isinstance(value, Field):  # as with dataclasses: a plain default stays a class attribute
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        found[name] = spec
    return found


# Constructions of a class after which its own __init__ is compiled (see _init_of).
COMPILE_AFTER = 32


def _init_of(cls: type, specs: dict[str, Field], frozen: bool, post_init: bool) -> Callable[..., None]:
    """The ``__init__`` a record starts with: no source to compile (a generated ``__init__`` costs
    ~15 us a field to compile, 1 ms for Settings, at every cold start); construction is a few dict
    operations (``__dict__`` directly: frozen records too). A class constructed ``COMPILE_AFTER``
    times (per message, in a batch) then gets a compiled one, as fast as a dataclass's: the cold
    paths never pay the compile, the hot ones only once."""
    names = tuple(specs)
    known = frozenset(names)
    defaults = {name: spec.default for name, spec in specs.items() if spec.default is not _MISSING}
    factories = tuple(
        (index, name, spec.default_factory)
        for index, (name, spec) in enumerate(specs.items())
        if spec.default_factory is not _MISSING
    )
    required = tuple(
        (index, name)
        for index, (name, spec) in enumerate(specs.items())
        if spec.default is _MISSING and spec.default_factory is _MISSING
    )
    title = cls.__qualname__
    if required and required[-1][0] >= len(required):  # as with dataclasses: no positional gap
        raise TypeError(f"{title}: a field without a default follows a field with one")

    constructed = [0]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        constructed[0] += 1
        if constructed[0] == COMPILE_AFTER:  # a race compiles it twice: the same function
            compiled = _compiled_init(cls, specs, frozen, post_init)
            type.__setattr__(cls, "__init__", compiled)
        given = len(args)
        if given > len(names):
            raise TypeError(f"{title}() takes {len(names)} positional arguments but {given} were given")
        values = self.__dict__
        values.update(defaults)
        if args:
            values.update(zip(names, args))
        if kwargs:
            if not known.issuperset(kwargs):
                raise TypeError(f"{title}() got unexpected keyword arguments {sorted(set(kwargs) - known)}")
            if given and not kwargs.keys().isdisjoint(names[:given]):
                raise TypeError(f"{title}() got multiple values for {sorted(kwargs.keys() & set(names[:given]))}")
            values.update(kwargs)
        for index, name in required:
            if index >= given and name not in kwargs:
                raise TypeError(f"{title}() missing required argument {name!r}")
        for index, name, factory in factories:
            if index >= given and name not in kwargs:
                values[name] = factory()
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{title}.__init__"
    return __init__


def _compiled_init(cls: type, specs: dict[str, Field], frozen: bool, post_init: bool) -> Callable[..., None]:
    """``__init__`` as dataclasses write it: one generated function with the fields as parameters."""
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
    params, body = ["self"], []
    for name, spec in specs.items():
        value = name
        if spec.default_factory is not _MISSING:
            namespace[f"_factory_{name}"] = spec.default_factory
            params.append(f"{name}=_MISSING")
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
        elif spec.default is not _MISSING:
            namespace[f"_default_{name}"] = spec.default
            params.append(f"{name}=_default_{name}")
        else:
            params.append(name)
        body.append(f"_set(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    if post_init:
        body.append("self.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(source, namespace)  # our own source, built from the class's field names
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _build(cls: type, frozen: bool) -> type:
    specs = _own_fields(cls)
    own = dict(cls.__dict__)
    target: Any = cls  # methods are set on the class: the type checker's view of them is the transform's
    target.__record_fields__ = specs
    if "__init__" not in own:
        target.__init__ = _init_of(cls, specs, frozen, hasattr(cls, "__post_init__"))
    if "__repr__" not in own:
        target.__repr__ = _repr_of(tuple(name for name, spec in specs.items() if spec.repr))
    compared = tuple(name for name, spec in specs.items() if spec.compare)
    key: Callable[[object], object] = attrgetter(*compared) if compared else _no_key
    if "__eq__" not in own:
        target.__eq__ = _eq_of(key)
        if "__hash__" not in own:
            target.__hash__ = _hash_of(key) if frozen else None
    if frozen:
        target.__setattr__ = _refuse_set
        target.__delattr__ = _refuse_delete
    return cls


def _no_key(_record: object) -> tuple[()]:
    return ()


def _hash_of(key: Callable[[object], object]) -> Callable[[object], int]:
    def __hash__(self: object) -> int:
        return hash(key(self))

    return __hash__


def _repr_of(shown: tuple[str, ...]) -> Callable[[object], str]:
    def __repr__(self: object) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _eq_of(key: Callable[[object], object]) -> Callable[[object, object], bool]:
    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(key(self) == key(other))

    return __eq__


def _refuse_set(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delete(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
