"""What ``check`` verifies besides the systems: the state database and the credentials
the service itself needs (the admin token, the webhook secrets), each with the exact fix."""

from __future__ import annotations

from connector.app import App
from connector.config import ServiceTitanSystem
from connector.errors import ConnectorError

Row = dict[str, str]


async def state_and_service_checks(app: App) -> list[Row]:
    rows = [await _integrity(app)]
    admin = app.config.service.admin_token_credential
    if admin:
        rows.append(_credential(app, "admin token", admin, "bearer", "token"))
    for name, system in app.config.systems.items():
        uses_webhooks = any(
            flow.webhook and name in (flow.source, flow.target)
            for flow in app.config.flows.values()
            if flow.enabled
        )
        if isinstance(system, ServiceTitanSystem) and uses_webhooks:
            secret = system.webhook_secret_credential
            if secret is None:
                rows.append(
                    {
                        "system": f"{name} webhooks",
                        "kind": "webhook-hmac",
                        "status": "FAIL",
                        "detail": f"a flow takes webhooks but systems.{name}."
                        "webhook_secret_credential is not set: name the vault credential "
                        "that holds the signing secret, or set webhook = false on the flow",
                    }
                )
            else:
                rows.append(
                    _credential(app, f"{name} webhooks", secret, "webhook-hmac", "secret")
                )
    return rows


async def _integrity(app: App) -> Row:
    row = {"system": "state", "kind": "postgresql" if app.config.store.url else "sqlite"}
    try:
        answer = await app.store.db.integrity()
    except ConnectorError as exc:
        return {**row, "status": "FAIL", "detail": str(exc)}
    if answer == ["ok"]:
        return {**row, "status": "OK", "detail": f"{app.store.db.location}: integrity ok"}
    return {
        **row,
        "status": "FAIL",
        "detail": f"{app.store.db.location} is damaged ({'; '.join(answer[:3])}): stop the "
        "service and restore the latest backup (deploy/README.md)",
    }


def _credential(app: App, label: str, name: str, kind: str, field: str) -> Row:
    row = {"system": label, "kind": kind}
    fix = f"`ml-connector creds set {name} --kind {kind}` with {{\"{field}\": \"…\"}} on stdin"
    try:
        credential = app.vault.get(name)
    except ConnectorError:
        return {**row, "status": "FAIL", "detail": f"no credential {name!r} in the vault: {fix}"}
    if credential.kind != kind or not credential.fields.get(field):
        return {
            **row,
            "status": "FAIL",
            "detail": f"credential {name!r} is of kind {credential.kind!r}, not {kind!r} "
            f"with a {field}: {fix}",
        }
    return {**row, "status": "OK", "detail": f"credential {name!r} present"}
