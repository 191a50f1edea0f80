"""The SCIM renderer writes with orjson (scim.rendering._fast) what DRF's own JSON renderer
writes, for any document of the kinds our views build: the same bytes, except that a float may
be spelled otherwise (0.00006103515625 for 6.103515625e-05), the same number."""

import datetime as dt
import decimal
import json
import uuid

from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from scim.rendering import ScimJSONRenderer

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.sampled_from(["\u2028", "a\u2029b", "é", "😀", "</script>"])
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.datetimes()
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.uuids()
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def documents(leaves: st.SearchStrategy) -> st.SearchStrategy:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
        ),
        max_leaves=30,
    )


@given(documents(LEAVES))
def test_the_same_bytes_as_drfs_renderer(document):
    assert ScimJSONRenderer().render(document) == JSONRenderer().render(document)


@given(documents(LEAVES | FLOATS))
def test_with_floats_the_same_document(document):
    ours, drfs = ScimJSONRenderer().render(document), JSONRenderer().render(document)
    assert ours == drfs or json.loads(ours) == json.loads(drfs)


def test_what_orjson_cannot_write_is_written_by_drf():
    huge = {"n": 2**70, "id": uuid.UUID(int=1), "d": decimal.Decimal("1.50")}
    assert ScimJSONRenderer().render(huge) == JSONRenderer().render(huge)
    assert ScimJSONRenderer().render(None) == b""


def test_a_lone_surrogate_is_still_answered_as_an_escape():
    rendered = ScimJSONRenderer().render({"detail": "bad \ud800 text"})
    assert rendered == b'{"detail":"bad \\ud800 text"}'
