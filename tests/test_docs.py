"""The docs are true. The README's fridge walk-through and operator tour (their `sh`
blocks, taken from the README itself) run with bash against a real store, started as
someone who just installed it starts it; every relative link and `#anchor` in the
README and `docs/` leads somewhere; and what the code cites in the docs exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server, start_server, stop_quietly

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, ROOT / "BENCHMARKS.md", *DOCS]
README_URL = "http://127.0.0.1:5050"  # what the README's examples call; the one substitution
FRIDGE = "<!-- doc-test: fridge walk-through"
OPERATOR = "<!-- doc-test: operator tour"
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")


# --- reading markdown ---------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    lang: str
    text: str


def blocks(lines: list[str]) -> list[Block]:
    """The fenced code blocks of `lines`, in order."""
    found = []
    fence, lang, body = "", "", []
    for line in lines:
        match = FENCE.match(line)
        if not fence and match:
            fence, lang, body = match.group(1), match.group(2), []
        elif fence and line.strip() == fence:
            found.append(Block(lang, "\n".join(body) + "\n"))
            fence = ""
        elif fence:
            body.append(line)
    return found


def outside_code(text: str) -> Iterator[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    fence = ""
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if not fence and match:
            fence = match.group(1)
        elif fence and line.strip() == fence:
            fence = ""
        elif not fence:
            yield number, line


def section_shell(marker: str) -> str:
    """The `sh` blocks of the README section that holds `marker`, in order: from the
    marker to the next heading of level 1 or 2."""
    text = README.read_text()
    lines = text.splitlines()
    starts = [n for n, line in outside_code(text) if line.startswith(marker)]
    assert len(starts) == 1, f"the README has {len(starts)} markers {marker!r}"
    ends = [n for n, line in outside_code(text) if n > starts[0] and re.match(r"#{1,2} ", line)]
    section = lines[starts[0] - 1 : ends[0] - 1 if ends else len(lines)]
    shell = [block.text for block in blocks(section) if block.lang == "sh"]
    assert shell, f"no sh block after {marker!r}"
    return "".join(shell)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, punctuation dropped, lower case,
    spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    for _, line in outside_code(page.read_text()):
        match = re.match(r"#{1,6} +(.+?)(?: +#+)? *$", line)
        if match:
            base = slug(match.group(1))
            seen[base] = seen.get(base, -1) + 1
            if seen[base]:  # a second heading of that name is `name-1`
                seen[f"{base}-{seen[base]}"] = 0
    return set(seen)


def links(page: Path) -> Iterator[tuple[int, str]]:
    """Every link and image target of `page`'s prose."""
    for number, line in outside_code(page.read_text()):
        line = re.sub(r"`+[^`]*`+", "``", line)  # not in inline code
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            yield number, target


# --- the store the examples run against ---------------------------------------------------


@dataclass
class Store:
    server: Server
    said: list[str]  # the plain lines it printed at start (its new passwords)

    @property
    def export_line(self) -> str:
        exports = [line for line in self.said if line.lstrip().startswith("export ")]
        assert len(exports) == 1, self.said
        return exports[0]

    @property
    def admin_password(self) -> str:
        return re.findall(r"AUTOGROCERY_ADMIN_PASSWORD=(\S+)", self.export_line)[0]

    def get(self, path: str) -> Any:
        """GET as admin (a fresh login, so the examples' tokens stay theirs)."""
        login = self._request(
            "/api/auth/login", {"username": "admin", "password": self.admin_password}
        )
        return self._request(path, token=login["access_token"])

    def _request(self, path: str, body: Any = None, token: str = "") -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server.url + path, data, headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (127.0.0.1)
            return json.loads(response.read())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """`autogrocery run --headless` on a free port and a temp data dir, with nothing in
    its environment: it makes the first passwords and prints them, as after
    `pip install . && autogrocery run`."""
    server = start_server(tmp_path_factory.mktemp("docs") / "data", as_installed=True)
    try:
        said = [entry["msg"] for entry in server.log if "level" not in entry]
        yield Store(server, said)
    finally:
        stop_quietly(server)


@pytest.fixture
def shell() -> None:
    """bash, curl and jq, which the README's examples use: a skip that says why, or a
    failure where they must run (`.ci/run` sets AG_REQUIRE_JQ and installs them)."""
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        why = f"{', '.join(missing)} not installed: the README's examples use them"
        if os.environ.get("AG_REQUIRE_JQ"):
            pytest.fail(f"{why} (apt-get install {' '.join(missing)})")
        pytest.skip(why)


def run(script: str, store: Store, *, first: str = "") -> subprocess.CompletedProcess[str]:
    """`script` in a fresh bash (no AUTOGROCERY_* variables), with the README's URL
    replaced by the store's, after `first` (what the reader typed before). It stops at
    the first command that fails (`-e`, `pipefail`); an unset variable is empty, as in
    the reader's shell."""
    assert README_URL in script
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return subprocess.run(
        [
            "bash",
            "-c",
            f"set -eo pipefail\n{first}\n{script.replace(README_URL, store.server.url)}",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env=env,
    )


def json_values(text: str) -> list[Any]:
    """Every JSON value printed one after another (curl adds no newlines)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            at = text.find("\n", at) + 1 or len(text)  # a line of plain text (jq -r)
            continue
        values.append(value)
    return values


# --- the README's examples ----------------------------------------------------------------


def test_the_readme_fridge_walk_through_completes_an_order(shell: None, store: Store) -> None:
    done = run(section_shell(FRIDGE), store)
    assert done.returncode == 0, done.stderr
    order = json_values(done.stdout)[-1]  # the last block's last answer: the order
    assert order["status"] == "COMPLETED", order
    stored = store.get(f"/api/orders/{order['order_id']}")  # as the operator sees it
    assert stored["status"] == "COMPLETED"
    assert stored["total"] == order["total"]
    assert {line["sku"]: line["quantity"] for line in stored["items"]} == {
        "BRD-001": 2,
        "DAI-001": 1,
    }


def test_the_readme_operator_tour_runs_after_the_export_line_of_the_first_start(
    shell: None, store: Store
) -> None:
    done = run(section_shell(OPERATOR), store, first=store.export_line)
    assert done.returncode == 0, done.stderr
    assert "Wrote off 2 l of Whole milk as waste" in done.stdout
    assert done.stdout.rstrip().endswith("true")  # the books balance
    movements = store.get("/api/ops/movements?sku=DAI-002&type=WASTE")["movements"]
    assert [(m["delta"], m["user"]) for m in movements] == [(-2, "admin")]


@pytest.mark.parametrize(
    "first", ["export AUTOGROCERY_ADMIN_PASSWORD=not-the-password", ""], ids=["wrong", "unset"]
)
def test_the_readme_operator_tour_stops_with_a_message_without_the_password(
    shell: None, store: Store, first: str
) -> None:
    done = run(section_shell(OPERATOR), store, first=first)
    assert done.returncode != 0
    assert "admin login failed (unknown username or wrong password)" in done.stderr
    assert "export line" in done.stderr  # says what to do
    assert done.stdout == ""  # nothing went on with an empty token


def test_the_readme_shows_what_the_first_start_prints(store: Store) -> None:
    """The lines under "Where the passwords went" are the store's, passwords aside."""
    readme = README.read_text()
    passwords = re.findall(r"AUTOGROCERY_\w+_PASSWORD=(\S+)", store.export_line)
    assert len(passwords) == 2
    shown = re.findall(r"AUTOGROCERY_\w+_PASSWORD=(\S+)", readme.split(FRIDGE)[0])[:2]
    for line in store.said:
        for ours, theirs in zip(passwords, shown, strict=True):
            line = line.replace(ours, theirs)
        assert line in readme, f"the README does not show the line {line!r}"


# --- links and references -----------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for number, target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        where = (page.parent / path).resolve() if path else page
        if not where.exists():
            broken.append(f"{page.name}:{number}: {target} (no such file)")
        elif anchor and where.suffix == ".md" and anchor not in anchors(where):
            broken.append(f"{page.name}:{number}: {target} (no such heading)")
    assert broken == []


def test_the_docs_are_all_linked_from_the_readme_or_another_page() -> None:
    linked = {
        (page.parent / target.partition("#")[0]).resolve()
        for page in PAGES
        for _, target in links(page)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target) and target.partition("#")[0]
    }
    assert [page.name for page in DOCS if page.resolve() not in linked] == []


CITED = re.compile(r"(?<![\w/.])((?:docs/)?[\w.-]+\.md)\b")


def test_what_the_code_cites_in_the_docs_exists() -> None:
    """A comment or docstring that points at a document points at one in this
    repository, and a rule it cites by number is a heading there."""
    files = [ROOT / "pyproject.toml", ROOT / "config.toml", ROOT / ".ci" / "run"]
    for tree in ("autogrocery", "tests", "tools"):
        files += sorted((ROOT / tree).rglob("*.py"))
    design = (ROOT / "docs" / "architecture.md").read_text()
    rules = {int(n) for n in re.findall(r"^### Rule (\d+):", design, re.M)}
    problems = []
    for path in files:
        if path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text()
        name = path.relative_to(ROOT)
        for cited in CITED.findall(text):
            if not (ROOT / cited).exists():
                problems.append(f"{name}: {cited}")
        for old in re.findall(r"DESIGN rule|DESIGN\.md|STYLE\.md|shared/docs", text):
            problems.append(f"{name}: {old}")
        for number in re.findall(r"docs/architecture\.md,\s+rule\s+(\d+)", text):
            if int(number) not in rules:
                problems.append(f"{name}: rule {number}")
    assert problems == []


def test_the_readme_is_a_front_door() -> None:
    text = README.read_text()
    first = blocks(text.splitlines())[0]
    assert first.text.splitlines() == [
        "pip install . && autogrocery run",
        'pip install ".[test]" && pytest',
    ]
    assert text.count("\n") < 300
    assert "## Contents" in text
