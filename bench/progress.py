"""Progress bars for the long steps, on a terminal (or with --progress when the output goes to a
file: then updated every few seconds); none in CI's log."""

import sys
from types import TracebackType
from typing import Any


class _Switch:
    forced = False


def force() -> None:
    _Switch.forced = True


class _Silent:
    """What ``bar`` gives when no bar is shown: accepts the same calls, needs no tqdm (tests
    load organisations without the bench's own requirements installed)."""

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        pass

    def update(self, count: int = 1) -> None:
        pass


def bar(total: int, description: str, unit: str, *, leave: bool = False, show: bool = True) -> Any:
    """A tqdm bar, or a silent stand-in that accepts the same calls (also when not ``show``:
    a thousand small organisations loaded one after another get one bar, not three each)."""
    terminal = sys.stderr.isatty()
    if not (show and (terminal or _Switch.forced)):
        return _Silent()
    from tqdm import tqdm  # bench/requirements.txt

    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        leave=leave,
        mininterval=0.1 if terminal else 5.0,
    )
