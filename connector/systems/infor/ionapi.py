"""The ``.ionapi`` file: an Infor tenant's gateway address and service-account login.

Infor hands out one JSON file per authorized app (ION API → Authorized Apps → Download
Credentials). The connector imports it whole into the vault (kind ``ionapi``) and parses it
with :func:`parse_ionapi` whenever it needs a URL or a secret, so the checks below run at
import time, where a person can still fix the file, and again at startup.

Only a *Backend Service* app downloaded with "Create Service Account" ticked carries
``saak``/``sask``, the service account we log in as; any other file cannot work unattended.
"""

from __future__ import annotations

from typing import Any

import msgspec

from connector.errors import ConfigurationError

_REQUIRED = ("ti", "ci", "cs", "iu", "pu", "ot", "or", "saak", "sask")
_HOW_TO_DOWNLOAD = (
    "in Infor OS open ION API → Authorized Apps, add (or open) an app of type "
    '"Backend Service", then Download Credentials with "Create Service Account" ticked '
    "(pick the user the connector acts as) and import the new file"
)


class IonApi(msgspec.Struct, frozen=True, kw_only=True):
    """A validated ``.ionapi`` file. ``cs`` and ``sask`` are secrets: never log them."""

    ti: str
    """Tenant id (``ACME_TST``), also the gateway's first path segment."""

    ci: str
    """OAuth client id."""

    cs: str
    """OAuth client secret."""

    iu: str
    """Gateway base URL (``https://mingle-ionapi.eu1.inforcloudsuite.com``)."""

    pu: str
    """Authorization server base URL, ending in ``/``."""

    ot: str
    """Token endpoint, relative to ``pu`` (``token.oauth2``)."""

    or_: str = msgspec.field(name="or")
    """Revoke endpoint, relative to ``pu`` (``revoke_token.oauth2``)."""

    oa: str | None = None
    """Authorization endpoint, relative to ``pu``; unused by a backend service."""

    saak: str
    """Service-account access key: the username, already prefixed ``{ti}#``."""

    sask: str
    """Service-account secret key: the password."""

    @property
    def token_url(self) -> str:
        """Where access tokens are requested (plain concatenation, as Infor's SDK does)."""
        return self.pu + self.ot

    @property
    def revoke_url(self) -> str:
        """Where tokens are revoked."""
        return self.pu + self.or_

    @property
    def gateway_base(self) -> str:
        """Base of every API call: the gateway URL followed by the tenant, no trailing slash."""
        return self.iu.rstrip("/") + "/" + self.ti

    def __repr__(self) -> str:
        return (
            f"IonApi(ti={self.ti!r}, ci={self.ci!r}, iu={self.iu!r}, pu={self.pu!r}, "
            f"saak={self.saak!r}, cs=<hidden>, sask=<hidden>)"
        )

    __str__ = __repr__

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # msgspec's own rich repr would list every field, the secrets included.
        return [("ti", self.ti), ("ci", self.ci), ("iu", self.iu), ("pu", self.pu)]


def parse_ionapi(raw: bytes | str, source: str) -> IonApi:
    """Parse and check an ``.ionapi`` file's content; ``source`` names it in errors.

    Raises ConfigurationError saying what is wrong and how to get a good file. Messages
    name keys, never their values, except the tenant, which is not secret.
    """
    data = _decode(raw, source)
    if "saak" not in data or "sask" not in data:
        raise ConfigurationError(
            f"{source}: this .ionapi file has no service account (no saak/sask keys): it was "
            'downloaded for an app that is not a "Backend Service" app with "Create Service '
            'Account" ticked, so the connector cannot log in unattended. To fix it, '
            + _HOW_TO_DOWNLOAD
        )
    values: dict[str, str] = {}
    for key in _REQUIRED:
        values[key] = _text(data, key, source)
    oa = data.get("oa")
    ionapi = IonApi(
        ti=values["ti"],
        ci=values["ci"],
        cs=values["cs"],
        iu=values["iu"],
        pu=values["pu"],
        ot=values["ot"],
        or_=values["or"],
        oa=oa if isinstance(oa, str) else None,
        saak=values["saak"],
        sask=values["sask"],
    )
    _check(ionapi, source)
    return ionapi


def _decode(raw: bytes | str, source: str) -> dict[str, Any]:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"{source}: not an .ionapi file: it is not UTF-8 text; {_HOW_TO_DOWNLOAD}"
            ) from None
    try:
        data = msgspec.json.decode(raw.lstrip("\ufeff"))
    except msgspec.DecodeError as exc:
        # msgspec's message gives a byte offset, never the content (which holds secrets).
        raise ConfigurationError(
            f"{source}: not an .ionapi file: it is not JSON ({exc}); {_HOW_TO_DOWNLOAD}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"{source}: not an .ionapi file: the JSON is not an object; {_HOW_TO_DOWNLOAD}"
        )
    return data


def _text(data: dict[str, Any], key: str, source: str) -> str:
    if key not in data:
        raise ConfigurationError(
            f"{source}: the .ionapi file lacks the key {key!r}; it is incomplete or was "
            f"edited by hand. Download it again: {_HOW_TO_DOWNLOAD}"
        )
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{source}: the .ionapi key {key!r} must be a non-empty string; download the "
            f"file again: {_HOW_TO_DOWNLOAD}"
        )
    return value


def _check(ionapi: IonApi, source: str) -> None:
    if not ionapi.pu.endswith("/"):
        raise ConfigurationError(
            f"{source}: the .ionapi key 'pu' (authorization server) must end with '/', as "
            "Infor writes it; the file was edited. Add the trailing '/' or download it again"
        )
    for key, url in (("iu", ionapi.iu), ("pu", ionapi.pu)):
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError(
                f"{source}: the .ionapi key {key!r} must be an http(s) URL; download the "
                f"file again: {_HOW_TO_DOWNLOAD}"
            )
    prefix = ionapi.ti + "#"
    if ionapi.saak.startswith(prefix + prefix):
        raise ConfigurationError(
            f"{source}: the .ionapi key 'saak' starts with {prefix!r} twice. Infor already "
            f"puts the tenant in front of the service-account key, so someone added it again; "
            f"the token server would refuse this username. Remove one {prefix!r} or "
            "download the file again"
        )
    if not ionapi.saak.startswith(prefix):
        raise ConfigurationError(
            f"{source}: the .ionapi key 'saak' does not start with {prefix!r}: the service "
            f"account belongs to another tenant than ti {ionapi.ti!r}, or the file was "
            f"edited. Download it again: {_HOW_TO_DOWNLOAD}"
        )
