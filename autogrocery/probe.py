"""Whether an autogrocery store (or a chain's head office) answers at an address: one
`GET /healthz`, bounded in time, for the commands' one-line errors before they start
anything (a busy port for `run`, a wrong `--url` for `dashboard`), and for `dashboard`
to know which dashboard to open. Blocking: call it before an event loop runs.

A head office says so in its `/healthz` body: `{"status": "ok", "role": "head-office"}`
(`ROLE_HEAD_OFFICE`). A store's body has no `role` (`{"status": "ok"}`, or
`"unhealthy"` with a reason), as every store before the chain had none."""

from __future__ import annotations

import enum
import http.client
import json
import ssl
import threading
import urllib.parse
from dataclasses import dataclass

WITHIN = 1.0  # seconds the whole probe may take
ROLE_HEAD_OFFICE = "head-office"  # the `role` in a head office's /healthz body


class Kind(enum.Enum):
    STORE = "store"  # /healthz answers as a store does (ok, or unhealthy)
    HEAD_OFFICE = "head-office"  # /healthz answers ok with role "head-office"
    OTHER = "other"  # something answers, not as a store
    SILENT = "silent"  # it takes the connection but says nothing in time
    NOTHING = "nothing"  # no connection (refused, unreachable, no such host)


@dataclass(frozen=True, slots=True)
class Answer:
    kind: Kind
    detail: str  # what was seen, in a few words: "connection refused", "HTTP 404"


def url_for(host: str, port: int) -> str:
    """The URL a process on this machine reaches a server listening on host:port at (a
    wildcard address is reached on the loopback)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def probe(url: str, within: float = WITHIN) -> Answer:
    """Ask `url` + /healthz; never takes much longer than `within` seconds."""
    answers: list[Answer] = []
    asking = threading.Thread(
        target=lambda: answers.append(_ask(url, within)), name="healthz-probe", daemon=True
    )
    asking.start()
    asking.join(within + 0.2)
    return answers[0] if answers else Answer(Kind.SILENT, f"no answer within {within:g} s")


def _ask(url: str, within: float) -> Answer:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Answer(Kind.NOTHING, "not an http:// or https:// URL")
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    try:
        connection = connection_type(parts.hostname, parts.port, timeout=within)
        connection.request("GET", parts.path.rstrip("/") + "/healthz")
        response = connection.getresponse()
        body = response.read(4096)
        connection.close()
    except ValueError as exc:  # a port that is not a number
        return Answer(Kind.NOTHING, str(exc))
    except TimeoutError:
        return Answer(Kind.SILENT, f"no answer within {within:g} s")
    except ConnectionRefusedError:
        return Answer(Kind.NOTHING, "connection refused")
    except http.client.HTTPException as exc:
        return Answer(Kind.OTHER, f"not HTTP: {type(exc).__name__}")
    except ssl.SSLError as exc:  # it answers, not in TLS (or not with a trusted certificate)
        return Answer(Kind.OTHER, f"TLS: {exc.reason or exc}")
    except OSError as exc:
        return Answer(Kind.NOTHING, exc.strerror or str(exc) or type(exc).__name__)
    try:
        health = json.loads(body)
    except ValueError:
        health = None
    if (
        response.status in (200, 503)
        and isinstance(health, dict)
        and health.get("status") in ("ok", "unhealthy")
    ):
        if health.get("role") == ROLE_HEAD_OFFICE:
            return Answer(Kind.HEAD_OFFICE, f"/healthz: {health['status']}, head office")
        return Answer(Kind.STORE, f"/healthz: {health['status']}")
    return Answer(Kind.OTHER, f"/healthz: HTTP {response.status}")
