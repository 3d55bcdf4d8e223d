"""Alerts: the service POSTs JSON to alert_webhook_url, and emails [service.alerts]'s
recipients, when a flow's open errors grow."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anyio
from aiohttp import web
from aiosmtpd.controller import Controller

from connector import demo
from tests.commands.support import break_cost_centers
from tests.test_alerts import Inbox, free_port
from tests.web.conftest import running_service


async def test_growing_errors_send_one_alert_naming_the_largest_group(
    contractor: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """A first run whose documents M3 refuses sends errors_growing with the count and the
    largest cause to the configured URL."""
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        good = await break_cost_centers(contractor)
        with contractor.config_path.open("a") as config:
            config.write(f'alert_webhook_url = "http://127.0.0.1:{port}/alerts"\n')
        async with running_service(contractor, tmp_path / "service.log", good):
            with anyio.fail_after(30):
                while not received:
                    await anyio.sleep(0.1)
    finally:
        await runner.cleanup()
    [alert] = received
    assert alert["event"] == "errors_growing" and alert["flow"] == "servicetitan-infor"
    assert alert["open_errors"] == alert["new_errors"] == 5
    assert alert["largest_group"]["count"] == 4
    assert "Accounting identity" in alert["largest_group"]["cause"]


async def test_growing_errors_are_emailed_through_the_configured_relay(
    contractor: demo.DemoEnvironment, tmp_path: Path
) -> None:
    """With [service.alerts] set, the service emails the same errors_growing alert: the
    count, the largest group and the `errors show` command to see its records."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        good = await break_cost_centers(contractor)
        with contractor.config_path.open("a") as config:
            config.write(
                f'alerts.smtp_host = "127.0.0.1"\nalerts.smtp_port = {port}\n'
                'alerts.starttls = false\nalerts.to = ["ops@example.com"]\n'
            )
        async with running_service(contractor, tmp_path / "service.log", good):
            with anyio.fail_after(30):
                while not inbox.messages:
                    await anyio.sleep(0.1)
    finally:
        controller.stop()
    [message] = inbox.messages
    assert message["Subject"] == "ml-connector: 5 new error(s) in servicetitan-infor (5 open)"
    body = message.get_payload()
    assert "Accounting identity" in body and "ml-connector errors show " in body
