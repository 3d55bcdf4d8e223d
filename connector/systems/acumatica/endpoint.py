"""Where one pinned endpoint of one Acumatica instance lives, and how its answers are read.

:class:`EndpointAccess` is the base the client's parts share (:mod:`.reads`, :mod:`.writes`,
:mod:`.lookups` and the :class:`~.client.AcumaticaClient` facade): the entity URLs under
``{instance}/entity/{endpoint}/{version}``, the default ``$expand``, decoding a record or a
list into the models of :mod:`.models`, and the 404 that means "this endpoint or entity is
not served here" rather than "no such record".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import quote

import msgspec
from yarl import URL

from connector.errors import ConfigurationError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.systems.acumatica import models as m
from connector.systems.acumatica.problems import SYSTEM, http_error, is_no_route
from connector.systems.acumatica.values import decode_record, decode_records, expand_paths

E = TypeVar("E", bound=m.Entity)

DEFAULT_PAGE_SIZE = 500

#: Statuses a read hands back to the caller, which tells "no such record" from a refusal.
READ_OK = frozenset({200, 400, 404, 500})
#: The same for a write, plus the answers a PUT gives about the record (412, 422).
WRITE_OK = frozenset({200, 400, 404, 412, 422, 500})


class EndpointAccess:
    """One endpoint of one instance: its URLs and how its answers decode.

    ``page_size`` is the default ``$top`` of list reads.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        instance_url: str,
        endpoint: str,
        version: str,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, not {page_size}")
        self.http = http
        self.instance_url = instance_url.rstrip("/")
        self.endpoint = endpoint
        self.version = version
        self.page_size = page_size
        self.base_url = f"{self.instance_url}/entity/{endpoint}/{version}"

    def url(self, entity: str, *segments: str) -> URL:
        """The URL of an entity, or of a record by its keys (each segment percent-encoded)."""
        path = "/".join(quote(part, safe="") for part in (entity, *segments))
        return URL(f"{self.base_url}/{path}", encoded=True)

    def _expand(self, entity: type[E], expand: Sequence[str] | None) -> dict[str, str]:
        paths = expand_paths(entity) if expand is None else tuple(expand)
        return {"$expand": ",".join(paths)} if paths else {}

    def _decode(self, response: HttpResponse, entity: type[E], label: str) -> E:
        try:
            return decode_record(response.body, entity)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise _unexpected(response, label, exc) from exc

    def _decode_list(self, response: HttpResponse, entity: type[E], label: str) -> list[E]:
        try:
            return decode_records(response.body, entity)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise _unexpected(response, label, exc) from exc

    def _no_route(self, response: HttpResponse, label: str) -> ConfigurationError:
        error = http_error(response)
        what = "no such URL" if error is None or is_no_route(error) else "not found"
        return ConfigurationError(
            f"{response.method} {response.path} for {label} → HTTP 404 ({what}): the instance "
            f"does not serve {self.endpoint}/{self.version} or this entity there. Run the "
            "startup check (`ml-connector check`) and fix `version` or `instance_url`.",
            system=SYSTEM,
            record=label,
        )


def _unexpected(
    response: HttpResponse, label: str, exc: msgspec.DecodeError | msgspec.ValidationError
) -> RejectedError:
    return RejectedError(
        f"unexpected response to {response.method} {response.path} (HTTP {response.status}) "
        f"for {label}: {exc}; the answer does not match the connector's model of the "
        f"{SYSTEM} contract: report it with this message",
        system=SYSTEM,
        record=label,
        code="unexpected_response",
    )
