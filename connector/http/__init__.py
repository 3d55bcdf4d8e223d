"""The HTTP kit every system client is built on.

One SystemSupervisor per external system connection owns a session (:func:`make_session`),
a :class:`RateLimiter` (from the process-wide :class:`LimiterRegistry`, so flows that share a
tenant share its budget) and, for token-based APIs, a :class:`TokenCache`. A system client
wraps them in an :class:`HttpClient` and calls :meth:`HttpClient.request`, which either
returns an :class:`HttpResponse` or raises one of :mod:`connector.errors`, classified as
DESIGN.md step 5 says: throttles and outages retried with full-jitter backoff, a 401 refreshed
once, writes whose outcome is unknown raised as ``InDoubtError`` and never blindly resent.

Each module's docstring states its own contract:

- :mod:`connector.http.session` — timeouts, cookies, connection pool;
- :mod:`connector.http.retry` — :class:`RetryPolicy`, :func:`backoff_delay`,
  :func:`parse_retry_after`;
- :mod:`connector.http.limiter` — rolling-window-safe rate limiting with shared pauses;
- :mod:`connector.http.tokens` — single-flight token cache with proactive refresh;
- :mod:`connector.http.messages` — :class:`HttpResponse` and the request the loop repeats;
- :mod:`connector.http.classify` — which error an answer or a lost connection becomes;
- :mod:`connector.http.client` — the request loop: tokens, limiter slots, retries.
"""

from connector.http.client import SUCCESS_STATUSES, HttpClient, HttpResponse
from connector.http.limiter import LimiterRegistry, RateLimiter, secret_fingerprint
from connector.http.retry import RetryPolicy, backoff_delay, parse_retry_after
from connector.http.session import make_session
from connector.http.tokens import Token, TokenCache, TokenState

__all__ = [
    "SUCCESS_STATUSES",
    "HttpClient",
    "HttpResponse",
    "LimiterRegistry",
    "RateLimiter",
    "RetryPolicy",
    "Token",
    "TokenCache",
    "TokenState",
    "backoff_delay",
    "make_session",
    "parse_retry_after",
    "secret_fingerprint",
]
