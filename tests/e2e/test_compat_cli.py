"""`autogrocery run --compat original`: the original fridge and truck UIs, unchanged,
against the real CLI, at the same time; and the truck stance refused at start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import aiohttp
import pytest

from tests.api.original_clients import OriginalFridge, OriginalTruck
from tests.e2e.server import ADMIN_PASSWORD, start_server, stop_quietly
from tests.helpers import check_invariants

pytestmark = pytest.mark.timeout(90)


async def test_the_original_fridge_and_truck_ui_against_the_real_store(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "store", "compat.truck_without_auth=true", flags=("--compat", "original")
    )
    try:
        async with aiohttp.ClientSession() as session:
            fridge = OriginalFridge(session, server.url)
            truck = OriginalTruck(session, server.url)
            assert await fridge.register("fridge-77", "fridge-pass-1") == (
                "Device Registered. Please Login."
            )
            assert await fridge.login("fridge-77", "fridge-pass-1")
            shown = await fridge.stock_scan([("MEA-002", 1), ("PRO-003", 3)])
            assert shown[1:] == ["MEA-002: 1 units available", "PRO-003: 3 units available"]
            row = {"sku": "PRO-003", "name": "-", "aisle_type": "produce", "quantity": 30}
            receipt, (restock_id, _, total_cost) = await asyncio.gather(
                fridge.dispatch(),
                truck.offload(
                    "SUPP-1", "Farm", [row | {"unit_cost": 0.4}], date.today(), date.today()
                ),
            )
            assert isinstance(receipt, dict)
            assert receipt["Status"] == "COMPLETED"
            assert total_cost == 12.0
            async with session.post(
                f"{server.url}/api/auth/login",
                json={"username": "admin", "password": ADMIN_PASSWORD},
            ) as r:
                operator = {"Authorization": f"Bearer {(await r.json())['access_token']}"}
            async with session.get(
                f"{server.url}/api/orders/{receipt['OrderID']}", headers=operator
            ) as r:
                order = await r.json()
            assert (order["status"], float(order["total"])) == ("COMPLETED", receipt["TotalPrice"])
            async with session.get(
                f"{server.url}/api/restocks/{restock_id}", headers=operator
            ) as r:
                assert (await r.json())["status"] == "COMPLETED"
        server.stop()
        check_invariants(server.data_dir)
    finally:
        stop_quietly(server)


def test_run_refuses_the_truck_ui_without_credentials_on_a_public_address(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "autogrocery", "run", "--headless", "--compat", "original"),
            *("--host=0.0.0.0", "-o", "compat.truck_without_auth=true"),
            *("--data-dir", str(tmp_path / "store")),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")},
    )
    assert result.returncode == 2
    assert result.stderr == (
        "autogrocery: compat: refusing to accept the original truck UI without credentials "
        "on 0.0.0.0; listen on a loopback address (--host 127.0.0.1) or pass --insecure\n"
    )
    assert not (tmp_path / "store").exists()
