"""Telling the operator, once, the passwords generated for the first accounts."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from autogrocery.api.auth import BOOTSTRAP, Bootstrapped


def report_bootstrap(
    done: Bootstrapped, accounts: Sequence[tuple[str, str, str]] = BOOTSTRAP
) -> None:
    """Tell the operator, on stderr at start (before any dashboard takes the terminal),
    the passwords generated for the first accounts (`accounts`: username, role and
    environment variable of each): printed once, never logged, with the `export` line
    that puts them where the README's examples, `autogrocery dashboard --url` and
    `autogrocery bench --url` read them. And say when a bootstrap password in the
    environment was ignored."""
    for username, password in done.generated:
        print(f"autogrocery: created account {username} with password {password}", file=sys.stderr)
    if done.generated:
        variables = {username: variable for username, _, variable in accounts}
        exports = " ".join(
            f"{variables[username]}={shlex.quote(password)}"
            for username, password in done.generated
        )
        print(
            "autogrocery: they are shown only now; to use them from a shell (the README's API "
            "examples, `autogrocery dashboard --url`), run this in it:",
            file=sys.stderr,
        )
        print(f"  export {exports}", file=sys.stderr)
    for variable in done.ignored:
        print(
            f"autogrocery: warning: {variable} is ignored: its account exists already with "
            "another password (change it with `autogrocery accounts set-password`)",
            file=sys.stderr,
        )
    sys.stderr.flush()
