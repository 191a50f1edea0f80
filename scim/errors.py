"""The one error type of the SCIM API (RFC 7644 §3.12).

Everything that goes wrong inside a SCIM request becomes a ``ScimError`` and is rendered as a
SCIM Error document in one place (``scim.handlers``). Its ``detail`` is written for the person
reading Okta's or Entra's task list: it says what was wrong and, where it helps, what to do.
"""

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        scim_type: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        # Seconds, for a Retry-After header: Okta and Entra retry a 429 or 503 that has one by
        # themselves, where a 500 becomes a failed task for the customer's admin.
        self.retry_after = retry_after

    def as_document(self) -> dict[str, str | list[str]]:
        document: dict[str, str | list[str]] = {
            "schemas": [ERROR_SCHEMA],
            "status": str(self.status),
            "detail": self.detail,
        }
        if self.scim_type:
            document["scimType"] = self.scim_type
        return document


def invalid_filter(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


def invalid_syntax(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidSyntax")


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def invalid_path(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidPath")


def no_target(detail: str) -> ScimError:
    return ScimError(400, detail, "noTarget")


def mutability(detail: str) -> ScimError:
    return ScimError(400, detail, "mutability")


def too_many(detail: str) -> ScimError:
    return ScimError(400, detail, "tooMany")


def uniqueness(detail: str) -> ScimError:
    return ScimError(409, detail, "uniqueness")


def not_found(detail: str) -> ScimError:
    return ScimError(404, detail)
