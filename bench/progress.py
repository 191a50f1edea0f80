"""Progress bars for the long steps, on a terminal (or with --progress when the output goes to a
file: then updated every few seconds); none in CI's log."""

import sys
from typing import Any

from tqdm import tqdm


class _Switch:
    forced = False


def force() -> None:
    _Switch.forced = True


def bar(total: int, description: str, unit: str, *, leave: bool = False) -> Any:
    """A tqdm bar, or a disabled one that accepts the same calls."""
    terminal = sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        leave=leave,
        disable=not (terminal or _Switch.forced),
        mininterval=0.1 if terminal else 5.0,
    )
