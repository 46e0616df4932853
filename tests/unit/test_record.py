"""record.NamedTuple makes the classes typing.NamedTuple makes, without checking the
annotations: compared here class by class with typing's own."""

from __future__ import annotations

import pickle
import typing

import pytest

from pyrene.record import NamedTuple


class Fast(NamedTuple):
    """A value."""

    path: str
    size: int = 0
    tags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.size == 0

    def grown(self, n: int) -> Fast:
        return self._replace(size=self.size + n)


class Typed(typing.NamedTuple):
    """A value."""

    path: str
    size: int = 0
    tags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.size == 0

    def grown(self, n: int) -> Typed:
        return self._replace(size=self.size + n)


def test_same_fields_defaults_and_behaviour_as_typing():
    assert Fast._fields == Typed._fields == ("path", "size", "tags")
    assert Fast._field_defaults == Typed._field_defaults == {"size": 0, "tags": ()}
    assert Fast.__doc__ == Typed.__doc__ == "A value."
    assert Fast.__qualname__ == "Fast" and Fast.__module__ == __name__
    f, t = Fast("/a"), Typed("/a")
    assert tuple(f) == tuple(t) == ("/a", 0, ())
    assert f.empty and not f.grown(2).empty and f.grown(2) == ("/a", 2, ())
    assert repr(Fast("/a", 1)) == "Fast(path='/a', size=1, tags=())"
    assert Fast(size=3, path="/b")._asdict() == {"path": "/b", "size": 3, "tags": ()}
    assert isinstance(f, tuple) and hash(f) == hash(t)
    with pytest.raises(AttributeError):
        f.path = "/c"  # type: ignore[misc]
    assert typing.get_type_hints(Fast) == typing.get_type_hints(Typed)


def test_pickles_by_name():
    f = Fast("/a", 4, ("x",))
    assert pickle.loads(pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL)) == f
    assert type(pickle.loads(pickle.dumps(f))) is Fast


def test_refuses_what_typing_refuses():
    with pytest.raises(TypeError, match="Non-default namedtuple field b cannot follow default field a"):
        class Bad(NamedTuple):
            a: int = 0
            b: int
    with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):
        class Worse(NamedTuple):
            a: int

            def _replace(self) -> None: ...
