"""Hand-friendly variant generators: one module per topic, one function per level.

A module here is named after its topic (``dot_product.py`` for ``dot-product``) and defines
``LEVELS = {1: level_1, ...}``: each function takes a ``random.Random`` and returns the topic's
options as command-line strings. It may define ``moot(given)``, the misconceptions that cannot
change the answer for these inputs (no temperature at T = 1), and ``suitable(values, level)``
for what a generic screen cannot know (no all-equal weights), and ``refuse(answer, level)``, one
line saying why an answer id cannot be asked at a level (None when it can), and
``glossary(values)``, (term, meaning) pairs the sheet lists beside the inputs at every level (the
vocabulary entries a tokenizer problem needs, with their ids), and ``worked(values)``, answer id ->
plain lines for the key where a stage has no equations to show (the merges, pair by pair). For
the sheet it defines
``SYMBOLS`` (option -> the SymPy symbol shown, or None to show the option in words), optionally
``UNSHOWN``, options the task sentence already states (next-token's seed, given as its u), and
``task(given)``, one plain sentence saying what to compute. A level may mix kinds of problem (SGD
or SGD with momentum): an asked answer that a draw does not have (plain SGD keeps no m) is drawn
again.
:func:`generate` draws until a variant passes the screen (every other misconception visibly
different at the sheet's decimals) and differs from the ones already handed out.

Levels: 1 = by hand with a basic calculator, 2 = harder, 3 = calculator work.
"""

from __future__ import annotations

import hashlib
import pkgutil
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import import_module

from derive.errors import DeriveError

MAX_DRAWS = 600
DRAWS_AFTER_REPEAT = 200


@dataclass(frozen=True)
class Variant:
    topic: str
    level: int
    given: Mapping[str, str]

    @property
    def key(self) -> tuple:
        return tuple(sorted(self.given.items()))


def topics() -> list[str]:
    found = pkgutil.iter_modules(__path__)
    return sorted(m.name.replace("_", "-") for m in found if not m.name.startswith("_"))


def _module(topic: str):
    return import_module(f"{__name__}.{topic.replace('-', '_')}")


def levels(topic: str) -> tuple[int, ...]:
    """The levels that have a generator; empty for a topic without one."""
    if topic not in topics():
        return ()
    return tuple(sorted(_module(topic).LEVELS))


def task(topic: str, given: Mapping[str, str]) -> str:
    return _module(topic).task(given)


def refusal(topic: str, answer: str, level: int) -> str | None:
    """Why ``answer`` cannot be asked at ``level`` (one line), or None when it can."""
    refuse = getattr(_module(topic), "refuse", None)
    return None if refuse is None else refuse(answer, level)


def glossary(topic: str, key: tuple) -> list[tuple[str, str]]:
    """What the sheet lists for a draw beyond its inputs (empty for most topics)."""
    listed = getattr(_module(topic), "glossary", None)
    return [] if listed is None else listed(evaluated(topic, key)[1])


def worked(topic: str, key: tuple) -> dict[str, list[str]]:
    """The key's plain lines per answer id, for stages whose working is not an equation."""
    lines = getattr(_module(topic), "worked", None)
    return {} if lines is None else lines(evaluated(topic, key)[1])


def symbol(topic: str, option: str):
    """The symbol a sheet shows for an option, or None when the option reads better in words."""
    return _module(topic).SYMBOLS.get(option)


def shown(topic: str, option: str) -> bool:
    """Whether the sheet lists an option among the inputs (the manifest and answer file keep it)."""
    return option not in getattr(_module(topic), "UNSHOWN", ())


def rng_for(*parts: object) -> random.Random:
    """A generator seeded from text, identical on every platform and Python version."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


@cache
def topic_named(name: str):
    """The registry's Topic, looked up once (the registry lists its package on every call)."""
    from derive import registry

    return registry.get(name)


@lru_cache(maxsize=4096)
def evaluated(topic: str, key: tuple):
    """The prepared givens and every stage's exact value for one draw: the screen and the key's
    worked solution both need them, and computing them is most of a variant's cost."""
    from derive.api import prepare
    from derive.worksheet import screen

    chosen = topic_named(topic)
    givens = prepare(chosen, dict(key))
    return givens, screen.values_from(chosen, givens)


@lru_cache(maxsize=4096)
def passes(topic: str, level: int, key: tuple, decimals: int, last: str | None = None) -> bool:
    """The screen up to the stage ``last`` (see the module docstring); cached, as small topics
    redraw the same inputs."""
    from derive.worksheet import screen

    module, chosen, given = _module(topic), topic_named(topic), dict(key)
    values = evaluated(topic, key)[1]
    moot = getattr(module, "moot", lambda given: ())(given)
    if not screen.finite(chosen, values):
        return False
    suitable = getattr(module, "suitable", None)  # before the confusions: it turns down about half
    if suitable is not None and not suitable(values, level):  # of attention's draws, and costs less
        return False
    return not screen.confusions(chosen, values, decimals, moot, last)


def generate(
    topic: str,
    level: int,
    rng: random.Random,
    decimals: int,
    taken: Collection[tuple] = (),
    ask: Collection[str] | None = None,
) -> Variant:
    """The first draw that passes the screen and is not in ``taken`` (a repeat only if none is new).

    With ``ask``, the screen covers the stages up to the last asked one (later answers are not
    graded); without it, every stage.
    """
    draw = _module(topic).LEVELS[level]
    last = None if ask is None else [s.name for s in topic_named(topic).stages if s.name in ask][-1]
    repeat, since_repeat = None, 0
    for _ in range(MAX_DRAWS):
        variant = Variant(topic, level, draw(rng))
        if repeat is not None:
            since_repeat += 1
            if since_repeat > DRAWS_AFTER_REPEAT:
                break
            if variant.key in taken:
                continue
        if not passes(topic, level, variant.key, decimals, last):
            continue
        if ask is not None and any(evaluated(topic, variant.key)[1].get(a) is None for a in ask):
            continue
        if variant.key not in taken:
            return variant
        repeat = variant
    if repeat is not None:
        return repeat
    raise DeriveError(
        f"could not draw a level {level} {topic} problem whose misconceptions all differ from the "
        f"answer at {decimals} decimals; ask for more decimals or another level"
    )
