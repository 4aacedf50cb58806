"""A screenshot of the web dashboard in headless Chromium, for the README:

    python -m tools.web_screenshot docs/dashboard-web.png [--key 2]

Starts a store with the simulator (`run --headless --simulate 5`) and
`dashboard --web` in front of it, each a subprocess on 127.0.0.1, then drives Debian's
Chromium through chromedriver (the W3C WebDriver protocol, plain HTTP): log in as the
operator, wait for the dashboard to fill, press `--key` (a panel), save the PNG.
Needs the Debian packages chromium and chromium-driver.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from autogrocery.ports import free_port

ADMIN_PASSWORD = "admin-password-1"  # noqa: S105 (a throwaway store of its own)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,860",
]


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "autogrocery", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )


def first_match(process: subprocess.Popen[str], pattern: str, within: float = 30.0) -> str:
    assert process.stdout is not None  # noqa: S101 (a pipe we asked for)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"exited with {process.wait()} before {pattern!r}")
        if found := re.search(pattern, line):
            return found.group(1)
    raise RuntimeError(f"nothing matched {pattern!r} within {within}s")


def drain(process: subprocess.Popen[str]) -> None:
    """Keep reading its output, so it never blocks on a full pipe."""
    threading.Thread(target=lambda: process.stdout and process.stdout.read(), daemon=True).start()


class Driver:
    """Just enough of the W3C WebDriver protocol."""

    def __init__(self, url: str, user_data_dir: str) -> None:
        self.url = url
        options = {"binary": "/usr/bin/chromium", "args": [*CHROMIUM_FLAGS, user_data_dir]}
        capabilities = {"alwaysMatch": {"goog:chromeOptions": options}}
        self.session = self.call("POST", "/session", {"capabilities": capabilities})["sessionId"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = orjson.dumps(body) if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return orjson.loads(response.read())["value"]

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, f"/session/{self.session}{path}", body)

    def find(self, css: str) -> str:
        found = self("POST", "/element", {"using": "css selector", "value": css})
        return str(next(iter(found.values())))

    def type(self, css: str, text: str) -> None:
        self("POST", f"/element/{self.find(css)}/value", {"text": text})

    def keys(self, text: str) -> None:
        actions = [{"type": "keyDown", "value": c} for c in text]
        actions += [{"type": "keyUp", "value": c} for c in text]
        body = {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}
        self("POST", "/actions", body)

    def quit(self) -> None:
        self.call("DELETE", f"/session/{self.session}")


def shoot(output: Path, key: str | None, settle: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="autogrocery-shot-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    env |= {"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD, "XDG_CONFIG_HOME": str(work / "cfg")}
    processes: list[subprocess.Popen[Any]] = []
    driver: Driver | None = None
    try:
        args = ["run", "--headless", "--simulate", "5", "--port", "0", "--data-dir", str(work)]
        store = cli([*args, "-o", "log.format=text", "-o", "auth.bcrypt_cost=4"], env, work)
        processes.append(store)
        url = first_match(store, r"API on (http://\S+?);")
        drain(store)
        web = cli(["dashboard", "--web", "--port", "0", "--url", url], env, work)
        processes.append(web)
        page = first_match(web, r"served on (http://\S+?)/ ")
        drain(web)
        port = free_port()
        processes.append(
            subprocess.Popen(  # noqa: S603 (our own command)
                ["/usr/bin/chromedriver", f"--port={port}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(1.0)
        driver = Driver(f"http://127.0.0.1:{port}", f"--user-data-dir={work / 'chromium'}")
        driver("POST", "/url", {"url": f"{page}/login"})
        driver.type("#username", "admin")
        driver.type("#password", ADMIN_PASSWORD + "\ue007")  # Enter submits
        time.sleep(settle)
        if key:
            driver(  # keys go to the terminal once it has the focus
                "POST", f"/element/{driver.find('#terminal')}/click", {}
            )
            driver.keys(key)
            time.sleep(2.0)
        output.write_bytes(base64.b64decode(driver("GET", "/screenshot")))
        print(f"wrote {output}")
    finally:
        if driver is not None:
            driver.quit()
        for process in reversed(processes):
            process.terminate()
            process.wait(15)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--key", help="a key to press once the dashboard is up (1-5)")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to wait first")
    args = parser.parse_args()
    shoot(args.output, args.key, args.settle)


if __name__ == "__main__":
    main()
