"""PostgreSQL COPY into a model's table, every value prepared by its model field exactly as the
ORM's INSERT prepares it (``Field.get_db_prep_save``, what ``bulk_create`` calls), so that the
rows are the ones the product would have written. COPY goes through the same constraints,
indexes and row triggers as an INSERT; it leaves out a model instance per row and a large
INSERT statement per batch to build, send and parse.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from psycopg import sql
from psycopg.types.json import Jsonb

Prepare = Callable[[Any], Any]
CHUNK = 10_000  # rows per transaction (copy says why)


class Columns:
    """The columns of one COPY: those given per row (by attname, in order), then those that are
    the same for every row (prepared once)."""

    def __init__(
        self, model: type[Model], varying: Sequence[str], constant: Mapping[str, Any]
    ) -> None:
        self.table = model._meta.db_table
        fields = [_field(model, name) for name in varying]
        # The connection itself, not django.db.connection's per-thread proxy: looking through
        # the proxy for every value of a million rows cost more than preparing the value.
        database = connections[DEFAULT_DB_ALIAS]
        self._prepare: list[Prepare] = [_preparer(field, database) for field in fields]
        constant_fields = [_field(model, name) for name in constant]
        self._constant = [
            _once(_preparer(field, database)(value))
            for field, value in zip(constant_fields, constant.values(), strict=True)
        ]
        self.names = [field.column for field in [*fields, *constant_fields]]

    def row(self, values: Sequence[Any]) -> list[Any]:
        return [
            prepare(value) for prepare, value in zip(self._prepare, values, strict=True)
        ] + self._constant

    @property
    def statement(self) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.table), sql.SQL(", ").join(map(sql.Identifier, self.names))
        )


def copy(
    columns: Columns,
    rows: Iterable[Sequence[Any]],
    *,
    on_rows: Callable[[int], None] = lambda count: None,
    chunk: int = CHUNK,
) -> int:
    """COPY the rows (values of the varying columns, in order) into the table, ``chunk`` rows
    per transaction (per savepoint when called inside one). Returns how many.

    Why not one transaction: a row trigger that keeps a counter row (PeopleCount's, one row
    per organisation and slot) leaves a dead version of that row per person until the
    transaction ends, and each update walks the versions before it. In one transaction of a
    million people that is quadratic (100,000 people took four times as long as without the
    trigger); in transactions of 10,000 each walk stays short, and the trigger still fires for
    every row."""
    written = 0
    batch: list[Sequence[Any]] = []
    for values in rows:
        batch.append(values)
        if len(batch) == chunk:
            written += _copy_batch(columns, batch)
            on_rows(len(batch))
            batch = []
    if batch:
        written += _copy_batch(columns, batch)
        on_rows(len(batch))
    return written


def _copy_batch(columns: Columns, batch: list[Sequence[Any]]) -> int:
    # Errors as Django's (IntegrityError and the rest), as for any ORM statement.
    with (
        transaction.atomic(),
        connection.wrap_database_errors,
        connection.cursor() as wrapper,
        wrapper.cursor.copy(columns.statement) as stream,
    ):
        for values in batch:
            stream.write_row(columns.row(values))
    return len(batch)


def model_row(instance: Model, names: Sequence[str]) -> list[Any]:
    """The values the ORM would INSERT for these attnames of an unsaved instance: each field's
    pre_save (a default or auto value) then get_db_prep_save. For tests: what ``Columns``
    writes must equal this."""
    model = type(instance)
    return [
        _field(model, name).get_db_prep_save(
            _field(model, name).pre_save(instance, add=True), connection
        )
        for name in names
    ]


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` ids from the table's own sequence, as the INSERTs would have taken them, so
    that rows can refer to each other (a person's manager) in the same COPY."""
    if count == 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _field(model: type[Model], attname: str) -> "Field[Any, Any]":
    field = model._meta.get_field(attname)
    assert isinstance(field, Field) and field.concrete, attname
    return field


def _once(prepared: Any) -> Any:
    """A constant JSON value as the text its adapter would send for every row (the same
    ``dumps``), made once: the database parses the same text either way."""
    if isinstance(prepared, Jsonb):
        return (prepared.dumps or json.dumps)(prepared.obj)
    return prepared


def _preparer(field: "Field[Any, Any]", database: BaseDatabaseWrapper) -> Prepare:
    def prepare(value: Any) -> Any:
        return field.get_db_prep_save(value, database)

    return prepare
