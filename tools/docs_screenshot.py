"""Open /docs of a real store in headless Chromium: check that Redoc rendered the API
offline (the page's CSP refuses anything from elsewhere, and Chromium's background
networking is off), and save a screenshot for the README.

    python -m tools.docs_screenshot [docs/api-docs.png]

Needs Debian's chromium (apt-get install chromium). Not part of the test suite: the
same page is tested over HTTP in tests/api/test_docs_and_cors.py.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.e2e.server import start_server, stop_quietly

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,900",
    "--virtual-time-budget=15000",
]
RENDERED = ("Preview (price and reserve) an order", "Live events (WebSocket)", "OrderLineRequest")


def chromium(url: str, profile: str, *extra: str) -> str:
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)  # noqa: S603 (our own command)
    return done.stdout


def main(argv: list[str]) -> int:
    shot = Path(argv[0] if argv else "docs/api-docs.png").resolve()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "store")
        try:
            url = server.url + "/docs"
            dom = chromium(url, str(Path(tmp) / "profile-dom"), "--dump-dom")
            missing = [text for text in RENDERED if text not in dom]
            if missing:
                print(f"/docs did not render: {missing} not in the page", file=sys.stderr)
                return 1
            chromium(url, str(Path(tmp) / "profile-shot"), f"--screenshot={shot}")
        finally:
            stop_quietly(server)
    print(f"/docs rendered offline in headless Chromium; screenshot: {shot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
