"""One request and its answer, as the request loop and the classifier both see them.

:class:`Call` is what stays the same across the attempts of one request; :class:`HttpResponse`
is one complete answer. They live apart from :mod:`connector.http.client` so that the
classifier (:mod:`connector.http.classify`) can read them without importing the loop that
uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
from yarl import URL

from connector.errors import RejectedError

T = TypeVar("T")

QueryValue = str | int | float
Params = Mapping[str, QueryValue] | Sequence[tuple[str, QueryValue]]


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete answer: status, headers (case-insensitive) and the whole body.

    ``system``, ``method`` and ``path`` say where it came from, for error messages.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    system: str = ""
    method: str = ""
    path: str = ""

    def json(self, type_: type[T]) -> T:
        """The body decoded (and validated) as ``type_`` with msgspec.

        A body that is not JSON or does not fit ``type_`` raises ``RejectedError`` with code
        ``unexpected_response``: the system answered in a shape our model does not know.
        For a write the status already says it landed; the error is about our reading of it.
        """
        try:
            return msgspec.json.decode(self.body, type=type_)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RejectedError(
                f"unexpected response to {self.method} {self.path} (HTTP {self.status}): {exc}; "
                "the answer does not match the connector's model of this API: report it with "
                "this message",
                system=self.system or None,
                code="unexpected_response",
            ) from exc


@dataclass(frozen=True, slots=True)
class Call:
    """Everything about one request that stays the same across its attempts.

    ``system`` and ``record`` prefix every error about it; ``idempotent`` decides whether a
    lost answer is retried or in doubt.
    """

    system: str
    method: str
    url: URL
    params: Params | None
    body: bytes | dict[str, str] | None
    headers: Mapping[str, str]
    idempotent: bool
    record: str | None

    @property
    def path(self) -> str:
        return self.url.path

    @property
    def where(self) -> str:
        """Method and path only: messages never carry the query string or the host's
        credentials."""
        return f"{self.method} {self.url.path}"
