"""SCIM's media type: accept application/scim+json and application/json, answer scim+json.

This is the edge where a client's bytes become Python values, so it is also where what the
rest of the code must never see is refused, once for every body: documents nested deeper than
any real SCIM document (every later walk of the value is then bounded), numbers that are not
finite, and text PostgreSQL cannot store (NUL, and unpaired UTF-16 surrogates, which a JSON
escape such as "\\ud800" produces but which are not Unicode characters at all).
"""

import json
import math
import re
from collections.abc import Mapping
from typing import IO, Any, NoReturn

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils import encoders

from scim.errors import ScimError, invalid_value

SCIM_MEDIA_TYPE = "application/scim+json"

# The deepest document Okta or Entra sends is a PATCH setting the enterprise manager: request,
# Operations, operation, value, extension, manager — six levels. Custom extensions with complex
# multi-valued attributes add two or three. 32 leaves room for anything real and keeps every
# walk of a body short.
MAX_DEPTH = 32

# NUL (PostgreSQL's text cannot hold it) and lone UTF-16 surrogates (UTF-8 cannot encode them,
# so neither can the database driver or the response). The request log uses it too.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ScimJSONParser(JSONParser):
    media_type = SCIM_MEDIA_TYPE

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = _text_encoding(parser_context or {})
        try:
            document = json.loads(
                stream.read().decode(encoding),
                parse_constant=_not_json,
                parse_float=_finite_float,
            )
        except RecursionError:
            # The C decoder recurses once per level and gives up near Python's recursion limit
            # (about 1,000 levels), before our own check below could run.
            raise _too_deep() from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
            raise ParseError(str(exc)) from None
        refuse_unstorable(document)
        return document


class PlainJSONParser(ScimJSONParser):
    """application/json, which Okta sends: the same document, so the same checks."""

    media_type = "application/json"


def _text_encoding(parser_context: Mapping[str, Any]) -> str:
    """The charset the Content-Type names (UTF-8 otherwise). Only text encodings: Django
    accepts any codec Python knows, and decoding with bz2_codec would inflate a small body
    past the size limit."""
    encoding = str(parser_context.get("encoding") or settings.DEFAULT_CHARSET)
    try:
        "".encode(encoding)  # unlike codecs.lookup, refuses bytes-to-bytes codecs
    except (LookupError, UnicodeError):
        raise ParseError(f'the charset "{encoding[:40]}" is not supported') from None
    return encoding


def refuse_unstorable(document: Any) -> None:
    """Refuse a parsed value nested deeper than MAX_DEPTH, or holding text (a key or a value)
    that cannot be stored. Iterative, so that no input can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(str(key))
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    found = UNSTORABLE.search(text)
    if found is None:
        return
    escape = f"\\u{ord(found.group()):04x}"
    what = "a NUL character" if escape == "\\u0000" else "an unpaired UTF-16 surrogate"
    raise invalid_value(
        f"The request contains {what} ({escape}), which is not valid text and cannot be "
        "stored. Remove it or send the character it was meant to be."
    )


def _too_deep() -> ScimError:
    return invalid_value(
        f"The request body is nested more than {MAX_DEPTH} levels deep; no SCIM resource is."
    )


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a JSON value")


def _finite_float(text: str) -> float:
    """1e400 is valid JSON but becomes infinity, which JSON cannot carry back out."""
    number = float(text)
    if not math.isfinite(number):
        raise invalid_value(f"The number {text[:40]} is too large.")
    return number


class ScimJSONRenderer(JSONRenderer):
    media_type = SCIM_MEDIA_TYPE
    format = "scim+json"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        try:
            rendered = _fast(data)
            if rendered is None:  # what orjson does not write as DRF would
                rendered = super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # Text that UTF-8 cannot encode (a lone surrogate echoed from a client in an error
            # detail) can still be written as JSON escapes: the answer must go out, whatever
            # it says.
            rendered = json.dumps(
                data, cls=self.encoder_class, ensure_ascii=True, separators=(",", ":")
            ).encode("ascii")
        finally:
            _let_go_of_the_response(renderer_context)
        return rendered


# DRF's encoder, for the values orjson hands back: datetimes (DRF writes UTC as "Z"), decimals,
# UUIDs, lazy text.
_DRF_VALUES = encoders.JSONEncoder().default
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _fast(data: Any) -> bytes | None:
    """The document as DRF's renderer writes it (compact, UTF-8, the same bytes), by orjson: a
    list page of 100 people spent 4% of its time in the standard library's encoder. None for
    no data at all, or when orjson cannot write it (an integer past 64 bits, text that is not
    valid Unicode): DRF's renderer then does, with its own errors. (orjson would write a float
    that is not finite as null where DRF refuses it; none reaches a document, since the
    parsers refuse them in requests and the database holds none.)"""
    if data is None:
        return None
    try:
        rendered = orjson.dumps(data, default=_DRF_VALUES, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    # DRF escapes the two line separators JavaScript does not allow in strings; so does this.
    # Both start with the byte E2: looking for that one byte takes a hundredth of the time of
    # the replacements (0.02 against 2 ms for a 10,000-member team), which are rarely needed.
    if rendered.find(b"\xe2") == -1:
        return rendered
    return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


def _let_go_of_the_response(renderer_context: Mapping[str, Any] | None) -> None:
    """Free a response by reference counting once it is sent, not at the next full garbage
    collection. DRF links it into reference cycles: the renderer context names the response
    (which holds the context) and the view (which keeps ``view.response`` and is itself in a
    cycle with its request). Python frees such cycles only when its oldest generation is
    collected, which can be many requests later: a worker serving a 10,000-member team (4 MB of
    document and body each time) grew by 114 MB in the bench. Rendering is the last use of both
    links, so they are cut here, for every SCIM answer."""
    if not isinstance(renderer_context, dict):
        return
    view = renderer_context.get("view")
    if view is not None:
        view.__dict__.pop("response", None)
    renderer_context.clear()
