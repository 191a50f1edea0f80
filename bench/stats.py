"""The figures of one endpoint: latency percentiles, requests/s and queries per request."""

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.loadgen import Sample


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Measurement:
    key: str  # "users_filter", "floor_c2", …
    concurrency: int
    floor: str  # the key of the measurement its ratio is taken against ("" for none)
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        return [sample.seconds for sample in self.samples]

    @property
    def server_p50(self) -> float:
        """Inside the worker (bench.middleware); for the in-process floor, its own timing."""
        inside = [
            sample.seconds if sample.server_seconds is None else sample.server_seconds
            for sample in self.samples
        ]
        return percentile(inside, 0.50)

    @property
    def p50(self) -> float:
        return percentile(self.seconds, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.seconds, 0.95)

    @property
    def requests_per_second(self) -> float:
        """At this concurrency, by Little's law (clients ÷ mean latency): the helper requests
        that undo a write between two measured ones do not count against it."""
        total = sum(self.seconds)
        return self.concurrency * len(self.samples) / total if total else math.nan

    @property
    def errors(self) -> list[Sample]:
        return [sample for sample in self.samples if not sample.ok]

    def queries(self) -> dict[str, int]:
        """The usual number of queries per request of each variant (the mode, so that the
        once-a-minute write of a key's last use does not blur it)."""
        counts: dict[str, Counter[int]] = defaultdict(Counter)
        for sample in self.samples:
            if sample.queries is not None:
                counts[sample.variant][sample.queries] += 1
        return {variant: counter.most_common(1)[0][0] for variant, counter in counts.items()}

    def queries_text(self) -> str:
        counted = self.queries()
        if not counted:
            return "-"
        if list(counted) == [""]:
            return str(counted[""])
        return " · ".join(f"{count} ({variant})" for variant, count in sorted(counted.items()))
