"""The faster ``__init__`` of the views behaves as the dataclass's own."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from pim.slotted_init import slotted_init
from pim.view import ImageView, ProductView


def _twin(slotted: bool) -> type:
    @dataclass(frozen=True, slots=True)
    class Item:
        sku: str
        count: int = 1
        tags: tuple[str, ...] = ()
        extra: dict[str, str] = field(default_factory=dict)
        seen: list[str] = field(default_factory=list)

        def __post_init__(self) -> None:
            self.seen.append(self.sku)

    return slotted_init(Item) if slotted else Item


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("A",), {}), (("A", 3), {"tags": ("x",)}), ((), {"sku": "B", "extra": {"k": "v"}})],
)
def test_slotted_init_sets_what_the_dataclass_init_sets(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain, fast = _twin(False)(*args, **kwargs), _twin(True)(*args, **kwargs)
    assert dataclasses.asdict(fast) == dataclasses.asdict(plain)
    assert fast.seen == [fast.sku]  # __post_init__ ran once
    other = _twin(True)(*args, **kwargs)
    assert other.seen is not fast.seen  # a new default from the factory each time
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.sku = "C"


def test_slotted_init_refuses_what_the_dataclass_refuses() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'sku'"):
        _twin(True)()
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        _twin(True)("A", colour="red")

    @dataclass
    class Mutable:
        sku: str

    with pytest.raises(TypeError, match="not a frozen dataclass with slots"):
        slotted_init(Mutable)


def test_views_keep_their_dataclass_behaviour() -> None:
    image = ImageView("k", "ab/k", "image/png", 10, 20, "alt")
    assert image == dataclasses.replace(image) and image.derivatives == ()
    assert pickle.loads(pickle.dumps(image)) == image
    view = ProductView("A", "a", "web", "de_DE", "customer", None, "A", "", "")  # type: ignore[arg-type]
    assert view.sources == {} and view.fingerprint == "" and view.stable == (None, None)
    assert dataclasses.replace(view, name="B").name == "B"
