"""The store's event-loop lag with the dashboard open, and the dashboard's own redraw
times, while the simulator drives the store at `--rate` orders per second; prints one
JSON line (what it measures and how: `tests/tui/load.py`, which `test_load.py` runs for
a few seconds in CI):

    python -m tools.dashboard_load --seconds 60 --rate 200
    python -m tools.dashboard_load --seconds 60 --rate 200 --no-dashboard   # the baseline
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from tests.tui.load import measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--work-dir", type=Path, help="keep the store and its logs here")
    parser.add_argument("--no-dashboard", action="store_true", help="the baseline: the store alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        result = measure(args.seconds, args.rate, work, with_dashboard=not args.no_dashboard)
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
