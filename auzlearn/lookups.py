"""``field__any=values``: membership in a list of values, sent to PostgreSQL as one array.

Django writes ``__in`` as ``IN (%s, %s, …)``, a parameter per value. For the lists the hot paths
send (the ids of a page of 100 people, the 256 people of a team PATCH) that is 100 to 256
parameters for Django to prepare one by one and psycopg to convert one by one, and a different
SQL text for every length, which PostgreSQL can never keep prepared. ``= ANY(%s)`` with the list
as one array parameter is the same condition (NULLs never match either way), in one parameter
and one text whatever the length. Other databases get ``__in``'s SQL.
"""

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Model
from django.db.models.lookups import In


@ForeignObject.register_lookup  # user__any=[…]: people or their ids
@Field.register_lookup
class AnyOf(In[Any]):
    lookup_name = "any"

    def get_prep_lookup(self) -> Any:
        if self.rhs_is_direct_value():
            self.rhs = [value.pk if isinstance(value, Model) else value for value in self.rhs]
        return super().get_prep_lookup()

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        if not self.rhs_is_direct_value():  # a subquery: as __in writes it
            return super().as_sql(compiler, connection)
        values = [value for value in dict.fromkeys(self.rhs) if value is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        array = [field.get_db_prep_value(value, connection, prepared=True) for value in values]
        return f"{lhs} = ANY(%s)", (*lhs_params, array)
