"""Parsing .ionapi files: URLs from a good file, a clear way out of every bad one."""

from __future__ import annotations

import json

import pytest

from connector.errors import ConfigurationError
from connector.systems.infor.ionapi import parse_ionapi

CLIENT_SECRET = "cs-Zq81-very-secret"
SERVICE_SECRET = "sask-7hG2-very-secret"


def ionapi_document(**changes: str | None) -> dict[str, str]:
    """A backend-service .ionapi as Infor writes it; a None change removes the key."""
    document = {
        "ti": "ACME_TST",
        "cn": "ml-connector",
        "dt": "12",
        "ci": "ACME_TST~Zm9vYmFy",
        "cs": CLIENT_SECRET,
        "iu": "https://mingle-ionapi.eu1.inforcloudsuite.com",
        "pu": "https://mingle-sso.eu1.inforcloudsuite.com:443/ACME_TST/as/",
        "oa": "authorization.oauth2",
        "ot": "token.oauth2",
        "or": "revoke_token.oauth2",
        "ev": "U1447357000",
        "v": "1.1",
        "saak": "ACME_TST#Ab3dE-service",
        "sask": SERVICE_SECRET,
    }
    for key, value in changes.items():
        if value is None:
            document.pop(key)
        else:
            document[key] = value
    return document


def failure(raw: bytes | str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        parse_ionapi(raw, "ACME_TST.ionapi")
    message = str(caught.value)
    assert message.startswith("ACME_TST.ionapi: ")
    assert CLIENT_SECRET not in message and SERVICE_SECRET not in message
    return message


def test_good_file_gives_token_revoke_and_gateway_urls() -> None:
    """URLs are plain concatenations of the file's keys, the gateway base ends in the tenant."""
    ionapi = parse_ionapi(json.dumps(ionapi_document()).encode(), "ACME_TST.ionapi")
    assert ionapi.ti == "ACME_TST"
    assert ionapi.token_url == (
        "https://mingle-sso.eu1.inforcloudsuite.com:443/ACME_TST/as/token.oauth2"
    )
    assert ionapi.revoke_url == (
        "https://mingle-sso.eu1.inforcloudsuite.com:443/ACME_TST/as/revoke_token.oauth2"
    )
    assert ionapi.gateway_base == "https://mingle-ionapi.eu1.inforcloudsuite.com/ACME_TST"
    assert ionapi.saak == "ACME_TST#Ab3dE-service"
    assert ionapi.sask == SERVICE_SECRET


def test_gateway_base_tolerates_a_trailing_slash_and_a_bom() -> None:
    """A BOM (Windows editors) and a trailing '/' on iu do not change the result."""
    document = ionapi_document(iu="https://gw.example.com/")
    ionapi = parse_ionapi(b"\xef\xbb\xbf" + json.dumps(document).encode(), "f.ionapi")
    assert ionapi.gateway_base == "https://gw.example.com/ACME_TST"


def test_optional_and_ignored_keys() -> None:
    """oa may be absent; cn, dt, ev and v are ignored."""
    document = ionapi_document(oa=None, cn=None, dt=None, ev=None, v=None)
    assert parse_ionapi(json.dumps(document), "f.ionapi").oa is None


@pytest.mark.parametrize("absent", ["saak", "sask"])
def test_missing_service_account_explains_backend_service(absent: str) -> None:
    """A file without saak/sask says it is not a Backend Service file and how to get one."""
    message = failure(json.dumps(ionapi_document(**{absent: None})))
    assert '"Backend Service"' in message
    assert '"Create Service Account"' in message
    assert "ION API → Authorized Apps" in message and "Download Credentials" in message


@pytest.mark.parametrize("absent", ["ti", "ci", "cs", "iu", "pu", "ot", "or"])
def test_other_missing_key_is_named(absent: str) -> None:
    """Any other missing required key is named."""
    message = failure(json.dumps(ionapi_document(**{absent: None})))
    assert f"lacks the key {absent!r}" in message


def test_empty_value_is_refused() -> None:
    """A required key holding an empty string is as bad as a missing one."""
    assert "'ci' must be a non-empty string" in failure(json.dumps(ionapi_document(ci=" ")))


def test_pu_without_trailing_slash() -> None:
    """pu must end with '/', since URLs are built by concatenation."""
    document = ionapi_document(pu="https://mingle-sso.eu1.inforcloudsuite.com:443/ACME_TST/as")
    assert "'pu' (authorization server) must end with '/'" in failure(json.dumps(document))


def test_doubled_tenant_prefix_on_saak_is_explained() -> None:
    """A saak carrying 'ti#' twice says the tenant was added again by hand."""
    message = failure(json.dumps(ionapi_document(saak="ACME_TST#ACME_TST#Ab3dE-service")))
    assert "starts with 'ACME_TST#' twice" in message
    assert "Remove one" in message


def test_saak_of_another_tenant() -> None:
    """A saak without the tenant prefix is refused."""
    message = failure(json.dumps(ionapi_document(saak="OTHER_PRD#Ab3dE")))
    assert "does not start with 'ACME_TST#'" in message


@pytest.mark.parametrize("raw", [b"ti=ACME_TST\ncs=" + CLIENT_SECRET.encode(), b"\xff\xfe{"])
def test_not_json_names_the_file(raw: bytes) -> None:
    """Content that is not JSON text is refused, naming the file and never echoing it."""
    assert "not an .ionapi file" in failure(raw)


def test_json_that_is_not_an_object() -> None:
    """A JSON array is not an .ionapi file."""
    assert "the JSON is not an object" in failure(json.dumps([ionapi_document()]))


def test_repr_hides_the_secrets() -> None:
    """repr and str show the tenant and client id but never cs or sask."""
    ionapi = parse_ionapi(json.dumps(ionapi_document()), "f.ionapi")
    for text in (repr(ionapi), str(ionapi), repr([ionapi])):
        assert "ACME_TST~Zm9vYmFy" in text
        assert CLIENT_SECRET not in text and SERVICE_SECRET not in text
