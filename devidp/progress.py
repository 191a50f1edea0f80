"""A plain-text progress bar on stderr, without a dependency: redrawn in place on a terminal,
a line every tenth of the way otherwise (a log, a CI job, a test's captured output)."""

from typing import Protocol

WIDTH = 30
LABEL_WIDTH = 44


class Stream(Protocol):
    def write(self, text: str) -> object: ...

    def flush(self) -> None: ...

    def isatty(self) -> bool: ...


class Progress:
    def __init__(self, total: int, stream: Stream, *, title: str) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.title = title
        self.interactive = stream.isatty()
        self._last_tenth = -1

    def step(self, label: str = "") -> None:
        self.done = min(self.done + 1, self.total)
        if self.interactive:
            self.stream.write("\r" + self._bar(label))
            self.stream.flush()
            return
        tenth = self.done * 10 // self.total
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self._bar(label).rstrip() + "\n")

    def note(self, line: str) -> None:
        """A line of its own (a failure), above the bar on a terminal."""
        if self.interactive:
            self.stream.write("\r\033[K" + line + "\n" + self._bar(""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.interactive:
            self.stream.write("\r" + self._bar("done") + "\n")
            self.stream.flush()

    def _bar(self, label: str) -> str:
        filled = WIDTH * self.done // self.total
        percent = 100 * self.done // self.total
        text = label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"
        return (
            f"{self.title} [{'#' * filled}{'.' * (WIDTH - filled)}] {percent:3d}% "
            f"{self.done}/{self.total} {text:<{LABEL_WIDTH}}"
        )
