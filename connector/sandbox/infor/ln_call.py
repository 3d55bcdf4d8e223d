"""One OData request as the LN simulator sees it, whether it came alone or inside a ``$batch``.

A ``$batch`` carries many requests in one HTTP body, and OData evaluates each "according to
the same semantics used when the request appears outside the context of a batch request"
(OData 4.01 Part 1, §11.7). So the handlers read this small value rather than aiohttp's
request, and the batch module builds one per sub-request.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL


@dataclass(frozen=True)
class Call:
    method: str
    #: The full URL asked (query included).
    url: URL
    headers: CIMultiDictProxy[str]
    body: bytes
    #: The gateway's tenant segment (for the error's ``innererror``).
    tenant: str
    #: ``{ti}/LN/lnapi/odata/{service}`` as a URL: what relative batch URLs resolve against.
    service_root: URL

    @property
    def query(self) -> MultiDictProxy[str]:
        return self.url.query

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    @classmethod
    async def of(cls, request: web.Request, segments: list[str]) -> Call:
        url = request.url
        # The service root is the path up to and including the service segment.
        path = url.path.split("/")
        index = path.index(segments[3]) if len(segments) > 3 and segments[3] in path else -1
        root = url.with_query(None).with_path("/".join(path[: index + 1])) if index > 0 else url
        return cls(
            method=request.method,
            url=url,
            headers=request.headers,
            body=await request.read() if request.can_read_body else b"",
            tenant=request.match_info.get("tenant", ""),
            service_root=root,
        )

    def sub(self, method: str, url: URL, headers: dict[str, str], body: bytes) -> Call:
        """A request of a batch: the batch's own headers (company, language) unless the
        sub-request sets its own."""
        merged = CIMultiDict(self.headers)
        for name in ("Content-Type", "Content-Length", "Prefer"):
            merged.popall(name, None)
        merged.update(headers)
        return Call(method, url, CIMultiDictProxy(merged), body, self.tenant, self.service_root)
