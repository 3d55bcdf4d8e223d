"""IFS Cloud projection client: paged reads, reads by key, ETag-guarded writes, look-ups.

:class:`IfsClient` is the one class callers use. Its parts live in modules of their own:
URLs, reads and decoding in :mod:`.reads`, natural-key look-ups in :mod:`.lookups`, the
ETag-guarded writes in :mod:`.writes`; the startup check stays here.

Contract:

* URLs are ``{url}/main/ifsapplications/projection/v1/{Projection}.svc/{EntitySet}``; a row is
  ``…/{EntitySet}(Key='v',…)``. Where each model lives is declared on it (:mod:`.models`).
* **Reads** follow ``@odata.nextLink`` (relative to ``…/projection/v1/``) verbatim until it is
  absent, and drop a row whose ``keyref`` was already seen in the same read (IFS warns rows
  can repeat when data changes between pages). Every row carries its ETag.
* **Incremental reads** (:meth:`IfsClient.changed`): IFS has no last-modified column, so the
  caller keeps a ``{keyref: etag}`` map and reads a window on the entity's own date; a row
  whose ETag differs from the map (or is new) is a change (sheet §3).
* **Writes** are never resent blindly: a POST or PATCH whose answer is lost is
  ``InDoubtError``, settled by a look-up by natural key (:meth:`~IfsClient.find_voucher_rows`
  & co.). Every PATCH and bound action sends ``If-Match`` with the row's ETag (read by key
  first when the caller has none). On 412 the row is read again and the change sent once
  more with the new ETag, if the caller's ``still_applies`` agrees; a second 412 is a
  ``ConflictError`` naming the row.
* ``MI_MODIFIED_ERROR``, redirects to ``/auth/`` and 5xx answers are dealt with below the
  client, in :mod:`.transport`.
* Refusals name the row and the attribute IFS blamed (:mod:`.problems`).
"""

from __future__ import annotations

from connector.errors import ConfigurationError
from connector.systems.ifs import models as m
from connector.systems.ifs.lookups import NaturalKeyLookups
from connector.systems.ifs.odata import literal
from connector.systems.ifs.problems import SYSTEM
from connector.systems.ifs.reads import API_PATH
from connector.systems.ifs.writes import EtagWrites

# API_PATH lives with the reads that build URLs from it; callers keep importing it from here.
__all__ = ["API_PATH", "IfsClient"]


class IfsClient(NaturalKeyLookups, EtagWrites):
    """Typed access to the projections of one IFS Cloud environment (module contract).

    Built by :func:`connector.systems.ifs.open_connection`, which owns the session, token
    cache and limiter that ``http`` uses; ``tokens`` lets a redirect to ``/auth/`` renew the
    token. ``company`` is the default company of look-ups.
    """

    def __repr__(self) -> str:
        return f"IfsClient(url={self.url!r}, company={self.company!r})"

    async def check(self) -> None:
        """Prove the credentials and the company at startup: one account of ``company``.

        Raises ``AuthError``/``ConfigurationError`` from the sign-in, and
        ``ConfigurationError`` when the company has no accounts (a wrong company id).
        """
        condition = f"Company eq {literal(self.company)}"
        async for _ in self.pages(m.Account, filter=condition, select=["Company", "Account"]):
            return
        raise ConfigurationError(
            f"IFS company {self.company!r} has no accounts visible to the IAM client's user: "
            "check `company` in the config and the user's company permissions",
            system=SYSTEM,
        )
