"""Timing the catalog's and inventory's pages and their revalidation on a big store.

    python -m tools.paging_figures --data-dir DIR [--rounds 200] [--unpaged-only]

Starts the store on DIR (as `tools.scale_figures` does), logs in as the operator and,
over one kept-alive connection, times each read `--rounds` times: a first page, a page
from the middle of the shelf order, a 304 revalidation of each (`If-None-Match`), the
inventory's pages (plain, `below_min`, a SKU prefix), and the unpaged catalog and
inventory (3 times: they are big); a search (`q`) `--search-rounds` times. Prints one
JSON object: bytes and p50/p99 in ms per read. `--unpaged-only` times only what a
store without paging serves, `--skip-unpaged` only the pages (`--search-rounds 0`:
no search either).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tools.scale_figures import start, stop


class Reader:
    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, tag: str | None = None) -> tuple[int, bytes, str, float]:
        headers = self.headers | ({"If-None-Match": tag} if tag else {})
        began = time.perf_counter()
        self.connection.request("GET", path, headers=headers)
        answer = self.connection.getresponse()
        body = answer.read()
        took = time.perf_counter() - began
        return answer.status, body, answer.getheader("ETag") or "", took


def timed(reader: Reader, path: str, rounds: int, revalidate: bool = False) -> dict[str, Any]:
    status, body, tag, _ = reader.get(path)
    times = []
    for _ in range(rounds):
        status, _, _, took = reader.get(path, tag if revalidate else None)
        times.append(took * 1000)
    times.sort()
    return {
        "status": status,
        "bytes": 0 if revalidate else len(body),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
    }


def middle_cursor(reader: Reader, path: str) -> str:
    """The cursor halfway through the shelf order (pages of 1000 until half is read)."""
    cursor, pages = "", list[str]()
    while True:
        sep = "&" if "?" in path else "?"
        _, body, _, _ = reader.get(
            f"{path}{sep}limit=1000" + (f"&cursor={cursor}" if cursor else "")
        )
        found = json.loads(body)["next_cursor"]
        if not found:
            return pages[len(pages) // 2] if pages else ""
        pages.append(found)
        cursor = found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.paging_figures")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--search-rounds", type=int, default=5, help="q is slow: fewer")
    parser.add_argument("--unpaged-only", action="store_true")
    parser.add_argument("--skip-unpaged", action="store_true")
    parser.add_argument(
        "--password", default=os.environ.get("AUTOGROCERY_ADMIN_PASSWORD", "figures-admin-23")
    )
    args = parser.parse_args(argv)
    process, url, _ = start(args.data_dir, None, args.password)
    try:
        login = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
        body = json.dumps({"username": "admin", "password": args.password})
        login.request("POST", "/api/auth/login", body, {"Content-Type": "application/json"})
        token = json.loads(login.getresponse().read())["access_token"]
        reader = Reader(url, token)
        found: dict[str, Any] = (
            {}
            if args.skip_unpaged
            else {
                "catalog_unpaged": timed(reader, "/api/catalog", 3),
                "inventory_unpaged": timed(reader, "/api/ops/inventory", 3),
                "catalog_q_milk_unpaged": timed(reader, "/api/catalog?q=milk", args.search_rounds),
            }
        )
        if not args.unpaged_only:
            middle = middle_cursor(reader, "/api/catalog")
            pages = {
                "healthz_floor": "/healthz",  # this machine's noise: the least a GET costs
                "orders_1_floor": "/api/orders?limit=1",  # a read on another thread, small
                "catalog_first_100": "/api/catalog?limit=100",
                "catalog_middle_100": f"/api/catalog?limit=100&cursor={middle}",
                "inventory_first_100": "/api/ops/inventory?limit=100",
                "inventory_middle_100": f"/api/ops/inventory?limit=100&cursor={middle}",
                "inventory_below_min_100": "/api/ops/inventory?below_min=true&limit=100",
                "inventory_sku_prefix_100": "/api/ops/inventory?sku=A&limit=100",
            }
            for name, path in pages.items():
                found[name] = timed(reader, path, args.rounds)
            q_page = "/api/catalog?q=milk&limit=20"
            if args.search_rounds:
                found["catalog_q_milk_20"] = timed(reader, q_page, args.search_rounds)
            found["catalog_first_100_304"] = timed(
                reader, pages["catalog_first_100"], args.rounds, True
            )
            found["catalog_middle_100_304"] = timed(
                reader, pages["catalog_middle_100"], args.rounds, True
            )
    finally:
        stop(process)
    print(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
