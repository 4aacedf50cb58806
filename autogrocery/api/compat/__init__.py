"""The original Auto Grocery devices' API (`/api/client/*`, `/api/truck/*`), served
beside ours when `[compat] original = true`: a thin translation onto the same flows.
What those clients send and read: docs/original-devices.md."""

from autogrocery.api.compat.setup import install
from autogrocery.api.compat.stance import exposure

__all__ = ["exposure", "install"]
