"""Enrolment: a join file (0600) with credentials that can speak only for their store,
an id enrolled once, and --rotate making the old credentials useless at once, as a real
leaf holding them finds out."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Sequence
from pathlib import Path

import nats.errors
import pytest

from autogrocery.central.enroll import EnrolError, enroll
from autogrocery.central.hub import Hub
from autogrocery.central.hubconf import StoreUser
from autogrocery.central.tls import ensure_generated
from autogrocery.chain.joinfile import JoinFile, read_join_file
from autogrocery.chain.natsd import Ports
from autogrocery.chain.protocol import Facts, Level
from tests.central.conftest import Central, CentralFactory, central_config
from tests.central.leaf import Leaf
from tests.waiting import eventually


def hub_log(central: Central) -> str:
    return (central.service.layout.hub / "hub.log").read_text(errors="replace")


async def linked(central: Central, store: str) -> bool:
    hub = central.service.hub
    assert hub is not None
    ids = await asyncio.get_running_loop().run_in_executor(None, hub.leaf_links, store)
    return bool(ids)


async def test_join_file_is_private_and_names_the_hub_and_its_ca(central: Central) -> None:
    path = central.enroll("north")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    join = read_join_file(path)
    assert join.store_id == "north"
    assert join.user == "store-north"
    assert list(join.hub) == central.service.hub_urls
    assert join.ca is not None
    assert join.ca.startswith("-----BEGIN CERTIFICATE-----")
    model = central.service.model
    assert model is not None
    stored = {e.store_id: e.password_hash for e in model.enrolled()}
    assert join.password not in stored["north"]  # only its hash is kept
    if not central.config.central.db:  # the SQLite file holds the read model
        assert join.password not in central.service.layout.db.read_bytes().decode("latin-1")
    with pytest.raises(EnrolError, match="enrolled already; pass --rotate"):
        central.enroll("north")
    with pytest.raises(EnrolError, match="must be 1-32 letters"):
        enroll(central.config.central, "no.dots", out=central.tmp / "x.join")
    with pytest.raises(EnrolError, match="not enrolled"):
        enroll(central.config.central, "south", out=central.tmp / "s.join", rotate=True)
    # A store id with '-' and '_' is a store like any other.
    leaf = await central.leaf("west_2-b")
    await leaf.publish(Facts(levels=[Level("BRD-001", 1, 0)]))
    await eventually(lambda: _applied(central, "west_2-b"), within=15, every=0.05)


async def test_rotate_stops_the_old_credentials_at_once(central: Central) -> None:
    old = await central.leaf("north")
    refused_before = hub_log(central).count('authentication error - User "store-north"')
    new_join = central.enroll("north", rotate=True)  # the running head office reloads, kicks

    async def old_refused() -> bool:
        log = hub_log(central)
        return log.count('authentication error - User "store-north"') > refused_before

    # the old link was kicked; its retry refused
    await eventually(old_refused, within=20, every=0.05)
    assert not await linked(central, "north")
    await old.down()
    new = await Leaf.start(new_join, central.tmp / "leaf-north-new")
    central.leaves.append(new)
    await eventually(lambda: linked(central, "north"), within=15, every=0.05)
    await new.publish(Facts(levels=[Level("BRD-001", 4, 0)]))
    await eventually(lambda: _applied(central, "north"), within=15, every=0.05)


async def test_a_leaf_that_does_not_trust_the_hub_does_not_link(central: Central) -> None:
    path = central.enroll("north")
    join = read_join_file(path)
    other = ensure_generated(central.tmp / "other-ca", ["127.0.0.1"])
    forged = JoinFile(join.store_id, join.hub, join.user, join.password, other.ca_pem())
    forged.write(central.tmp / "forged.join")
    leaf = await Leaf.start(central.tmp / "forged.join", central.tmp / "leaf-forged")
    central.leaves.append(leaf)

    async def refused() -> bool:
        log = (leaf.workdir / "leaf.log").read_text(errors="replace")
        return "certificate" in log and "ERR" in log

    await eventually(refused, within=20, every=0.05)
    assert not await linked(central, "north")


async def test_a_stores_credentials_reach_nothing_of_another_store_or_the_hq(
    central: Central,
) -> None:
    """From inside north's leaf (its credentials' account on the hub), neither the head
    office's JetStream nor south's API or down path answers."""
    north = await central.leaf("north")
    south = await central.leaf("south")
    for subject in (
        "$JS.hq.API.STREAM.INFO.CHAIN_IN",
        "$JS.store-south.API.STREAM.NAMES",
        "chain.api.south.STREAM.NAMES",
        "chain.down.south.catalog.99",
    ):
        with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
            await north.nc.request(subject, b"{}", timeout=1)
    await north.nc.publish("chain.deliver.south.x", b"forged")
    await north.nc.flush()
    # South's own path still works, and nothing of north's reached its down stream.
    assert await south.nc.request("$JS.API.STREAM.NAMES", b"{}", timeout=2)
    assert not any("99" in subject for subject in await south.received())


def test_enrol_works_without_a_running_head_office(tmp_path: Path) -> None:
    config = central_config(tmp_path / "central", "central.leaf_port=7999")
    done = enroll(config.central, "north", out=tmp_path / "north.join")
    assert done.told_pid is None
    join = read_join_file(done.join_file)
    assert join.hub == ("nats-leaf://127.0.0.1:7999",)  # from config: it never ran
    assert (tmp_path / "central" / "keys" / "leaf-ca.pem").exists()
    assert stat.S_IMODE((tmp_path / "central" / "keys" / "leaf-ca.key").stat().st_mode) == 0o600
    with pytest.raises(EnrolError, match="exists already"):
        enroll(config.central, "south", out=tmp_path / "north.join")


@pytest.mark.parametrize("read_model", ["sqlite"], indirect=True)
async def test_a_store_enrolled_while_the_head_office_starts_reaches_the_hub(
    make_central: CentralFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`central enroll` between the hub's start and the chain worker's: no running head
    office took its SIGHUP, and the store must still be let in (at the worker's first
    look), not wait for the next enrolment."""
    config = central_config(tmp_path / "central")
    late = tmp_path / "late.join"
    start = Hub.start

    def start_then_enrol(hub: Hub, stores: Sequence[StoreUser]) -> Ports:
        ports = start(hub, stores)
        urls = [f"nats-leaf://127.0.0.1:{port}" for port in hub.leaf_ports]
        enroll(config.central, "late", out=late, hub=urls)
        return ports

    monkeypatch.setattr(Hub, "start", start_then_enrol)
    central = await make_central()
    leaf = await Leaf.start(late, tmp_path / "leaf-late")
    central.leaves.append(leaf)
    await central.linked("late")
    await leaf.publish(Facts(levels=[Level("BRD-001", 1, 0)]))
    await eventually(lambda: _applied(central, "late"), within=15, every=0.05)


async def _applied(central: Central, store: str) -> bool:
    return (await central.stats(store))["events_applied"] >= 1
