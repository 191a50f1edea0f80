"""Reads whose SQL the ORM builds once per process and then runs again with new values.

Django builds and compiles a queryset's SQL on every execution. For the reads every SCIM request
makes (the key and its organisation; the person with their manager's columns, their teams and
their last change) that is most of the request's Python: building the person's queryset and
compiling its 50 columns, join and subqueries took about a fifth of a GET /Users/{id} in the
workers, and the key's another tenth (py-spy, bench/README.md, issue 15). Such a read's SQL
depends on the values it looks up only through its parameters, so ``CompiledRead`` has the ORM
compile it once, with marker values, notes where each marker went among the parameters, and then
sends the same SQL with the request's values. Rows become model objects exactly as the ORM makes
them: its compiler's converters, its related-object populators, its annotations. Sending the same
text every time also lets PostgreSQL keep the statement prepared (auzlearn/config.py).

The markers must reach the parameters as they are: values for exact lookups, not LIKE patterns
the ORM rewrites. A marker that is missing, or found twice where the read did not say it is
``repeated`` (a value compared in two places), is an error when the read is first compiled (in
the tests), never a wrong query.
"""

import threading
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, tuple[tuple[int, Callable[[Any], Any]], ...]]  # each marker's places, forms
    fields: tuple[int, int] | None  # where the model's own columns are in a row; None: values
    attnames: list[str]
    related: list[Any]  # django.db.models.query.RelatedPopulator
    annotations: dict[str, int]

    def objects(self, rows: Sequence[Any], using: str) -> list[Any]:
        """What ModelIterable makes of these rows (ValuesListIterable for a values read)."""
        if self.fields is None:
            return list(self.compiler.results_iter([list(rows)], tuple_expected=True))
        model = self.compiler.klass_info["model"]
        start, end = self.fields
        made = []
        for row in self.compiler.results_iter([list(rows)]):
            instance = model.from_db(using, self.attnames, row[start:end])
            for populator in self.related:
                populator.populate(row, instance)
            for name, position in self.annotations.items():
                setattr(instance, name, row[position])
            made.append(instance)
        return made


@dataclass(frozen=True)
class BoundRead(Generic[M]):
    """A compiled read with a request's values: its SQL, its parameters, and what its rows
    become."""

    sql: str
    params: tuple[Any, ...]
    compiled: _Compiled
    using: str

    def fetch(self) -> list[M]:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return self.objects(cursor.fetchall())

    def objects(self, rows: Sequence[Any]) -> list[M]:
        """What these rows of the read's result make."""
        compiler = self.compiled.compiler
        if compiler.has_extra_select:  # columns only ORDER BY needed, as Django trims them
            rows = [row[: compiler.col_count] for row in rows]
        return self.compiled.objects(rows, self.using)


class CompiledRead(Generic[M]):
    """``build(**markers)`` is the queryset; calling the read with the same names and the
    request's values returns its rows as model objects. The values must have the markers'
    types (a UUID where the marker is one): they are sent as the ORM would send the markers.
    A marker named in ``repeated`` may be sent more than once; each marker must be a value the
    query sends nowhere else."""

    reads_objects = True

    def __init__(
        self, build: Callable[..., QuerySet[M]], *, repeated: Collection[str] = (), **markers: Any
    ) -> None:
        if len({repr(marker) for marker in markers.values()}) != len(markers):
            raise ValueError(f"markers must differ from each other: {markers!r}")
        self._build = build
        self._markers = markers
        self._repeated = frozenset(repeated)
        self._local = threading.local()  # a compiler belongs to its thread's connection

    def __call__(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        return self.bound(using, **values).fetch()

    def bound(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> "BoundRead[M]":
        """The read's SQL and parameters for these values, unsent: for a caller that sends it
        with other statements in one round trip (auzlearn/one_trip_inserts.py)."""
        if values.keys() != self._markers.keys():
            raise TypeError(f"expected values for {sorted(self._markers)}, got {sorted(values)}")
        compiled = self.compiled(using)
        params = list(compiled.params)
        for name, value in values.items():
            for index, convert in compiled.slots[name]:
                params[index] = convert(value)
        return BoundRead(compiled.sql, tuple(params), compiled, using)

    def compiled(self, using: str = DEFAULT_DB_ALIAS) -> _Compiled:
        cache: dict[str, _Compiled] = self._local.__dict__.setdefault("by_alias", {})
        if using not in cache:
            cache[using] = self._compile(using)
        return cache[using]

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(**self._markers)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = {}
        for name, marker in self._markers.items():
            found = [
                (index, convert)
                for index, param in enumerate(params)
                for form, convert in _sent_forms(marker, connections[using])
                if type(param) is type(form) and param == form
            ]
            if not found or (len(found) > 1 and name not in self._repeated):
                raise ValueError(
                    f"marker {name}={marker!r} is {len(found)} times among the parameters of "
                    f"{sql!r}: use it once, in an exact lookup"
                )
            slots[name] = tuple(found)
        if not self.reads_objects:
            return _Compiled(compiler, sql, tuple(params), slots, None, [], [], {})
        klass_info = compiler.klass_info
        assert klass_info is not None, "a CompiledRead reads model objects"
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            slots=slots,
            fields=(start, end),
            attnames=[column[0].target.attname for column in compiler.select[start:end]],
            related=get_related_populators(klass_info, compiler.select, using),
            annotations=dict(compiler.annotation_col_map or {}),
        )


class CompiledValues(CompiledRead[Any]):
    """A ``values_list()`` read compiled once: its rows come back as the tuples the ORM makes
    of them (each column's converters applied), not as model objects."""

    reads_objects = False


def _as_is(value: Any) -> Any:
    return value


def _hex(value: uuid.UUID) -> str:
    return value.hex


def _sent_forms(marker: Any, connection: Any) -> list[tuple[Any, Callable[[Any], Any]]]:
    """The forms the ORM may send a marker in, and how to send a value the same way: a UUID is
    sent as it is to PostgreSQL, as 32 hex digits to SQLite (UUIDField); an integer compared
    with an integer column is sent to PostgreSQL as psycopg's Int2, Int4 or Int8 of it."""
    if isinstance(marker, uuid.UUID):
        return [(marker, _as_is), (marker.hex, _hex)]
    if type(marker) is int:
        kinds = set(getattr(connection.ops, "integerfield_type_map", {}).values())
        return [(marker, _as_is), *((kind(marker), kind) for kind in kinds)]
    return [(marker, _as_is)]
