"""The floor: the least a server can do to answer "is there a user with this userName?".

The same indexed query the SCIM filter runs (organisation and LOWER(username), served by the
unique index), rendered as a tiny JSON document, on the same server, workers and database, with
no SCIM work around it: no key check, no filter parsing, no COUNT, no request log. Endpoint
latencies are reported as ratios to it, so that the figures hold on a noisy machine.
"""

from django.http import HttpRequest, JsonResponse

from accounts.models import User


def floor(request: HttpRequest, organisation_pk: int) -> JsonResponse:
    username = request.GET.get("userName", "")
    people = User.objects.get_queryset().filter(organisation_id=organisation_pk)
    user = people.with_username(username).first()
    if user is None:
        return JsonResponse({})
    return JsonResponse({"id": str(user.public_id), "userName": user.username})
