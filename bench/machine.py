"""Who used the CPUs during the measurements: the benchmark (client and server), PostgreSQL, or
other work on the machine, which disturbs the figures and should be named next to them."""

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSnapshot:
    busy: float  # CPU-seconds of the whole machine, not idle
    ours: float  # this process and its descendants (the gunicorn master and workers)
    postgres: float  # the postmaster and its backends, the ones that exited included

    def __sub__(self, other: "CpuSnapshot") -> "CpuSnapshot":
        return CpuSnapshot(
            self.busy - other.busy, self.ours - other.ours, self.postgres - other.postgres
        )


def snapshot() -> CpuSnapshot:
    processes = _processes()
    ours = _tree(processes, os.getpid())
    masters = [
        pid
        for pid, (comm, ppid, _) in processes.items()
        if comm == "postgres" and processes.get(ppid, ("",))[0] != "postgres"
    ]
    postgres = sum((_tree(processes, pid) for pid in masters), 0.0)
    return CpuSnapshot(busy=_machine_busy(), ours=ours, postgres=postgres)


def describe(used: CpuSnapshot, seconds: float) -> str:
    cores = os.cpu_count() or 1
    others = max(0.0, used.busy - used.ours - used.postgres)

    def share(value: float) -> str:
        return f"{value / (seconds * cores):.0%}"

    text = (
        f"CPU during the measurements ({cores} cores, {seconds:.0f} s): busy {share(used.busy)};"
        f" the benchmark's client and server {share(used.ours)}, PostgreSQL {share(used.postgres)},"
        f" other processes {share(others)}"
    )
    if others > 0.1 * seconds * cores:
        text += " - other work competed for the CPUs: these figures are disturbed, run again"
    return text


def _machine_busy() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(value) for value in fields]
    idle = values[3] + values[4]  # idle and iowait
    return (sum(values[:8]) - idle) / _TICKS


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU-seconds of it and its reaped children)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        ppid = int(rest[1])
        utime, stime, cutime, cstime = (int(value) for value in rest[11:15])
        found[int(entry.name)] = (comm, ppid, (utime + stime + cutime + cstime) / _TICKS)
    return found


def _tree(processes: dict[int, tuple[str, int, float]], root: int) -> float:
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        if pid in processes:
            total += processes[pid][2]
            pending += [child for child, (_, ppid, _) in processes.items() if ppid == pid]
    return total
