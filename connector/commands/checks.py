"""What ``check`` verifies besides the sign-in to each system: misspelt keys in the config,
what each flow needs in its systems (a clearing supplier, accounting dimensions, numbering
sequences…), the state database and the credentials the service itself needs (the admin
token, the webhook secrets). Each failing row says what is wrong and the exact fix."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from connector import registry
from connector.app import App
from connector.config import ServiceTitanSystem
from connector.config.loader import UnknownKey
from connector.errors import ConnectorError

Row = dict[str, str]


def unknown_key_rows(unknown: Sequence[UnknownKey]) -> list[Row]:
    """One FAIL per key the config's table does not have (the rest was still checked)."""
    return [
        {"system": "config", "kind": f"[{u.table}]", "status": "FAIL", "detail": u.message()}
        for u in unknown
    ]


async def flow_checks(app: App, failed_systems: Collection[str]) -> list[Row]:
    """Each enabled flow's own checks (:attr:`registry.PairingSpec.check`), run on the same
    connections; a flow whose system failed its sign-in is reported as not checked."""
    rows: list[Row] = []
    for name, flow in app.config.flows.items():
        if not flow.enabled:
            continue
        systems = app.config.systems
        pairing = registry.pairing(systems[flow.source].kind, systems[flow.target].kind)
        if pairing is None or pairing.check is None:
            continue
        label = f"flow {name}"
        broken = [s for s in (flow.source, flow.target) if s in failed_systems]
        if broken:
            rows.append(
                {
                    "system": label,
                    "kind": "flow",
                    "status": "FAIL",
                    "detail": f"not checked: system {broken[0]} failed above; fix it first",
                }
            )
            continue
        try:
            request = registry.FlowRequest(
                name,
                flow,
                app.config,
                await app.supervisor(flow.source),
                await app.supervisor(flow.target),
                app.store,
            )
            results = await pairing.check(request)
        except ConnectorError as exc:
            rows.append({"system": label, "kind": "flow", "status": "FAIL", "detail": str(exc)})
            continue
        except OSError as exc:
            rows.append(
                {
                    "system": label,
                    "kind": "flow",
                    "status": "FAIL",
                    "detail": f"cannot reach the system ({exc}); check the URL and the network",
                }
            )
            continue
        rows += [
            {
                "system": label,
                "kind": r.what,
                "status": "OK" if r.ok else "FAIL",
                "detail": r.detail,
            }
            for r in results
        ]
    return rows


async def state_and_service_checks(app: App) -> list[Row]:
    rows = [await _integrity(app)]
    admin = app.config.service.admin_token_credential
    if admin:
        rows.append(_credential(app, "admin token", admin, "bearer", ("token",)))
    rows += _email_alerts(app)
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
                    _credential(app, f"{name} webhooks", secret, "webhook-hmac", ("secret",))
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


def _email_alerts(app: App) -> list[Row]:
    """[service.alerts]: recipients to send to, and the relay's login in the vault."""
    email = app.config.service.alerts
    if email.smtp_host is None:
        return []
    if not email.to:
        return [
            {
                "system": "alert email",
                "kind": "smtp",
                "status": "FAIL",
                "detail": "[service.alerts] names an smtp_host but no recipients: set "
                'to = ["ops@example.com"] there, or remove smtp_host',
            }
        ]
    if email.smtp_credential is None:
        return [
            {
                "system": "alert email",
                "kind": "smtp",
                "status": "OK",
                "detail": f"to {', '.join(email.to)} via {email.smtp_host} (no login)",
            }
        ]
    return [
        _credential(app, "alert email", email.smtp_credential, "smtp", ("username", "password"))
    ]


def _credential(app: App, label: str, name: str, kind: str, fields: tuple[str, ...]) -> Row:
    row = {"system": label, "kind": kind}
    body = ", ".join(f'"{field}": "…"' for field in fields)
    fix = f"`ml-connector creds set {name} --kind {kind}` with {{{body}}} on stdin"
    try:
        credential = app.vault.get(name)
    except ConnectorError:
        return {**row, "status": "FAIL", "detail": f"no credential {name!r} in the vault: {fix}"}
    if credential.kind != kind or not all(credential.fields.get(f) for f in fields):
        return {
            **row,
            "status": "FAIL",
            "detail": f"credential {name!r} is of kind {credential.kind!r}, not {kind!r} "
            f"with {' and '.join(fields)}: {fix}",
        }
    return {**row, "status": "OK", "detail": f"credential {name!r} present"}
