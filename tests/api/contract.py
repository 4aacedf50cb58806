"""Checks real responses against the served OpenAPI document: the declared status, the
declared media type, the declared schema of the body (JSON Schema 2020-12), and the
declared headers (Retry-After on 429 and 503, WWW-Authenticate on 401, …) when the
caller passes the response's headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from jsonschema import Draft202012Validator

METHODS = ("get", "post", "put", "patch", "delete")


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = document["components"]
        self.paths = [
            (re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", template) + "$"), template, item)
            for template, item in document["paths"].items()
        ]
        self.checked: set[tuple[str, str, int]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template, item in self.paths:
            if pattern.match(path) and method.lower() in item:
                return template, item[method.lower()]
        return None

    def validate(self, value: Any, schema: dict[str, Any]) -> None:
        """Raises jsonschema.ValidationError when `value` does not fit `schema`."""
        root = {**schema, "components": self.components}
        Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
            value
        )

    def event(self, frame: dict[str, Any]) -> None:
        self.validate(frame, {"$ref": "#/components/schemas/Event"})

    def check(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        found = self.operation(method, path.split("?")[0])
        if found is None:
            return  # not an operation of the API (an unknown path: 404 problem)
        template, operation = found
        response = operation["responses"].get(str(status))
        assert response is not None, f"{method} {template} answered {status}, not documented"
        self.checked.add((method.upper(), template, status))
        if "$ref" in response:
            response = self.components["responses"][response["$ref"].rsplit("/", 1)[1]]
        if headers is not None:
            self._headers(f"{method} {template} {status}", response.get("headers", {}), headers)
        content = response.get("content")
        if not content:
            assert body == b"", f"{method} {template} {status} sent a body it does not declare"
            return
        assert content_type in content, f"{method} {template} {status}: {content_type}"
        if content_type.endswith("json"):
            self.validate(orjson.loads(body), content[content_type]["schema"])

    def _headers(self, where: str, declared: dict[str, Any], headers: Mapping[str, str]) -> None:
        for name, spec in declared.items():
            value = headers.get(name)
            if value is None:
                assert not spec.get("required"), f"{where}: no {name} header"
                continue
            schema = spec.get("schema", {})
            self.validate(int(value) if schema.get("type") == "integer" else value, schema)
