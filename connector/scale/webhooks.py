"""A node's webhook receiver: ``POST /webhooks/<tenant>/<flow>``, behind any load balancer.

Each delivery is checked and stored by the sending system's own receiver (the same code as
the single-VM service: signature, dedupe by event id, the inbox write before the 2xx) in
the tenant's state, then a drain job is queued for that tenant and flow. The drain runs
under the tenant's lock like a cycle, on whichever node is free; events stored while one
is queued ride along with it (its queueing lock), and the inbox sweep picks up anything a
crash between the store and the queueing left behind.
"""

from __future__ import annotations

import logging

import procrastinate
from aiohttp import web

from connector import registry
from connector.errors import ConfigurationError
from connector.registry import WebhookContext
from connector.scale.directory import TenantDirectory
from connector.scale.jobs import defer
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_inbox, open_tenant_vault
from connector.scale.tenant_config import tenant_config

log = logging.getLogger("connector.scale")


class TenantWebhooks:
    """The aiohttp handler of every tenant's webhook paths."""

    def __init__(self, settings: NodeSettings, job_app: procrastinate.App) -> None:
        self.settings = settings
        self.job_app = job_app
        self.directory = TenantDirectory(settings.database_url)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        tenant, flow = request.match_info["tenant"], request.match_info["flow"]
        row = await self.directory.get(tenant)
        if row is None:
            return web.json_response({"error": f"no tenant {tenant}"}, status=404)
        try:
            config = tenant_config(self.settings, tenant, row.config_toml)
        except ConfigurationError as exc:
            log.error("webhook for tenant %s refused: %s", tenant, exc)
            return web.json_response({"error": "tenant misconfigured"}, status=503)
        flow_config = config.flows.get(flow)
        if flow_config is None or not flow_config.enabled or not flow_config.webhook:
            return web.json_response({"error": f"no webhooks for flow {flow}"}, status=404)
        sender = next(
            (
                (name, receiver)
                for name in (flow_config.source, flow_config.target)
                if (receiver := registry.system(config.systems[name].kind).webhook_receiver)
            ),
            None,
        )
        if sender is None:
            return web.json_response({"error": f"flow {flow} takes no webhooks"}, status=404)
        name, receiver = sender
        stored: list[bool] = []
        store = await open_tenant_inbox(self.settings, tenant)
        try:
            vault = open_tenant_vault(self.settings, tenant)
            handler = receiver(
                WebhookContext(
                    flow=flow,
                    system=name,
                    config=config.systems[name],
                    store=store,
                    credential=vault.get,
                    on_stored=lambda: stored.append(True),
                )
            )
            if handler is None:
                return web.json_response({"error": "webhooks are off for this flow"}, status=404)
            response = await handler(request)
        finally:
            await store.close()
        if stored:
            await defer(self.job_app, tenant, flow, "drain")
        return response


async def start_receiver(
    settings: NodeSettings, job_app: procrastinate.App, port: int
) -> web.AppRunner:
    routes = web.Application(client_max_size=2 * 1024 * 1024)
    routes.router.add_post("/webhooks/{tenant}/{flow}", TenantWebhooks(settings, job_app).handle)
    runner = web.AppRunner(routes, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, settings.service.webhook_host, port).start()
    return runner
