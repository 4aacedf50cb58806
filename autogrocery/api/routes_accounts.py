"""/api/ops/accounts: operators create accounts of any role, and disable or enable them
on a running store (`autogrocery accounts` does the same on a stopped one)."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.bodies import json_response
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.api.state import state
from autogrocery.contract.accounts import Account, AccountState, CreateAccountRequest

routes = web.RouteTableDef()
OPERATOR = ("operator",)


@routes.post("/api/ops/accounts")
@documented(
    Operation(
        "createAccount",
        "Create an account of any role",
        "ops",
        roles=OPERATOR,
        body=CreateAccountRequest,
        replies=(Reply(201, "Created.", Account),),
        problems=(409, 503),
        description="How truck and operator accounts are made. 409 if the username is taken.",
    )
)
async def create_account(request: web.Request, body: CreateAccountRequest) -> web.Response:
    account = await state(request).auth.create_account(body.username, body.password, body.role)
    return json_response(account, status=201)


@routes.post("/api/ops/accounts/{username}/disable")
@documented(
    Operation(
        "disableAccount",
        "Disable an account",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Disabled.", AccountState),),
        problems=(404, 503),
        description="At once: its access tokens are refused, every login (refresh token) "
        "is revoked, and it cannot log in. Its orders stay. Disabling again is harmless.",
    )
)
async def disable(request: web.Request) -> web.Response:
    auth = state(request).auth
    return json_response(await auth.set_disabled(request.match_info["username"], True))


@routes.post("/api/ops/accounts/{username}/enable")
@documented(
    Operation(
        "enableAccount",
        "Enable a disabled account",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Enabled.", AccountState),),
        problems=(404, 503),
        description="It can log in again; the logins revoked when it was disabled stay revoked.",
    )
)
async def enable(request: web.Request) -> web.Response:
    auth = state(request).auth
    return json_response(await auth.set_disabled(request.match_info["username"], False))
