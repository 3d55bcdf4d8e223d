"""The TOML of a toyledger tenant, as an operator would write it for `tenants add`."""

from __future__ import annotations


def tenant_toml(
    base_url: str,
    tenant: str,
    *,
    limit: float = 20.0,
    schedule: str = "every 2s",
    webhook_token: str | None = None,
    workers: int = 2,
) -> str:
    webhooks = f'webhook_token = "{webhook_token}"' if webhook_token else ""
    return f"""
[systems.source]
kind = "toyledger"
credential = "ledger-key"
base_url = "{base_url}"
tenant = "{tenant}"
requests_per_second = {limit}
{webhooks}

[systems.target]
kind = "toyledger"
credential = "ledger-key"
base_url = "{base_url}"
tenant = "{tenant}"
requests_per_second = {limit}

[flows.bills]
source = "source"
target = "target"
schedule = "{schedule}"
webhook = {"true" if webhook_token else "false"}
workers = {workers}
"""
