"""The product's settings as in production, plus two things the benchmark needs on the same
server: the floor route (bench.urls) and a per-request query count (bench.middleware).

gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings; nothing here changes how the product
itself behaves, except that no SCIM rate limit is reached (below).
"""

from auzlearn.settings import *  # noqa: F403
from auzlearn.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# The bench's collectstatic goes beside its results (git-ignored), not into the project's
# staticfiles/, where the test suite would find 611 files to index on every test client.
STATIC_ROOT = BASE_DIR / "bench" / "results" / "static"  # noqa: F405
# Outermost, so that every statement of a request is counted, the session's included.
MIDDLEWARE = ["bench.middleware.count_queries", *MIDDLEWARE]
# The closed-loop phases send one organisation hundreds of requests a second, far past the
# product's SCIM_RATE_LIMIT_PER_MINUTE, to measure capacity, not the limit. A limit no phase
# reaches keeps the limiter (its cache round trip) in every measured request.
SCIM_RATE_LIMIT_PER_MINUTE = 1_000_000_000
