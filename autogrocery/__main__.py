"""`python -m autogrocery`, and the `autogrocery` command's entry: `main`, with a Ctrl-C
while the modules load ending as quietly as one later on."""

import signal
import sys


def run() -> int:
    try:
        # orjson's module init cannot take an exception raised inside it (ijl/orjson#310):
        # a Ctrl-C landing while it loads crashed the process (SIGSEGV). It loads first,
        # with SIGINT held back; a Ctrl-C meanwhile arrives once it is loaded.
        # The mask as it was is put back: a parent that started this process with
        # SIGINT blocked (`run --dashboard` starts the dashboard so) still has it so.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            import orjson  # noqa: F401
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        from autogrocery.cli.main import main
    except KeyboardInterrupt:
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
