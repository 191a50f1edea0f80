"""One-row INSERTs whose SQL the ORM compiles once per process.

Compiling an INSERT walks every column of the model: it quotes each name, builds a placeholder
for each value and assembles the statement. A POST /Users sends three one-row INSERTs the ORM
compiled afresh each time (the person's 50 columns, the audit row, the request log's entry),
and compiling them was about a tenth of its time in the worker (cProfile, bench/README.md,
issue 15). The statement's text depends only on the model, its columns and the placeholders;
when each value's placeholder is the plain ``%s`` (no field with a placeholder of its own, no
expression among the values) it is the same for every row, so it is kept after the first
compile and sent again with each new row's values, prepared as the ORM prepares them: each
field's ``pre_save``, then ``get_db_prep_save``. Anything else (several rows, an expression as
a value) is compiled by the ORM every time. The same text every time also lets PostgreSQL keep
the statement prepared (auzlearn/config.py).
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

# (model, database alias, returning pk?, ignoring conflicts?) -> the statement's text.
_TEXTS: dict[tuple[type[Model], str, bool, bool], str] = {}


def insert_sql(
    rows: Sequence[Model], *, returning_pk: bool = False, ignore_conflicts: bool = False
) -> tuple[str, tuple[Any, ...]]:
    """The INSERT of these new rows of one model, as ``save()`` or ``bulk_create`` compiles
    it: RETURNING the pk when asked, ON CONFLICT DO NOTHING when conflicts are ignored."""
    model = type(rows[0])
    fields = columns(model)
    shape = (model, connection.alias, returning_pk, ignore_conflicts)
    text = _TEXTS.get(shape) if len(rows) == 1 else None
    if text is not None:
        values = [field.pre_save(rows[0], add=True) for field in fields]
        if not any(hasattr(value, "resolve_expression") for value in values):
            return text, tuple(
                field.get_db_prep_save(value, connection=connection)
                for field, value in zip(fields, values, strict=True)
            )
    sql, params = _compile(rows, fields, returning_pk, ignore_conflicts)
    if len(rows) == 1 and _plain(fields, sql, params):
        _TEXTS[shape] = sql
    return sql, params


def columns(model: type[Model]) -> list[Field[Any, Any]]:
    """The columns an INSERT of a new row writes: all but the generated pk (Model.save's)."""
    meta = model._meta
    return [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]


def _compile(
    rows: Sequence[Model], fields: list[Field[Any, Any]], returning_pk: bool, ignore: bool
) -> tuple[str, tuple[Any, ...]]:
    model = type(rows[0])
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore else None)
    query.insert_values(fields, list(rows))
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [model._meta.pk] if returning_pk else None
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)


def _plain(fields: list[Field[Any, Any]], sql: str, params: tuple[Any, ...]) -> bool:
    """Whether every value went in as one plain ``%s`` of its own: then the text holds for any
    row whose values are not expressions."""
    if any(hasattr(field, "get_placeholder") for field in fields):
        return False
    return len(params) == len(fields) and sql.count("%s") == len(fields)
