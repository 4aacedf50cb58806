"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.bodies import json_response
from autogrocery.api.core import CALLER, core
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.contract.accounts import (
    Account,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)

routes = web.RouteTableDef()


@routes.post("/api/auth/register")
@documented(
    Operation(
        "register",
        "Register a device account",
        "auth",
        roles=None,
        body=RegisterRequest,
        replies=(Reply(201, "Account created.", Account),),
        problems=(409, 503),
        description="Creates a `device` account only (trucks and operators come from "
        "POST /api/ops/accounts). 409 if the username is taken.",
    )
)
async def register(request: web.Request, body: RegisterRequest) -> web.Response:
    account = await core(request).auth.create_account(
        body.username, body.password, "device", body.email, body.phone
    )
    return json_response(account, status=201)


@routes.post("/api/auth/login")
@documented(
    Operation(
        "login",
        "Log in",
        "auth",
        roles=None,
        body=LoginRequest,
        replies=(Reply(200, "Logged in.", TokenPair),),
        problems=(401, 429, 503),
        description="An access token (short-lived JWT) and a single-use refresh token. Unknown "
        "user and wrong password get the same 401; too many failures get 429.",
    )
)
async def login(request: web.Request, body: LoginRequest) -> web.Response:
    client = request.remote or "unknown"
    tokens = await core(request).auth.login(body.username, body.password, client)
    return json_response(tokens)


@routes.post("/api/auth/refresh")
@documented(
    Operation(
        "refreshTokens",
        "Rotate the refresh token",
        "auth",
        roles=None,
        body=RefreshRequest,
        replies=(Reply(200, "A new token pair.", TokenPair),),
        problems=(401, 503),
        description="The presented refresh token is dead from then on. Presenting a dead one "
        "again is taken as theft: 401, and every token of that login (refresh and access, "
        "the pair just issued for it included) is revoked.",
    )
)
async def refresh(request: web.Request, body: RefreshRequest) -> web.Response:
    return json_response(await core(request).auth.refresh(body.refresh_token))


@routes.post("/api/auth/logout")
@documented(
    Operation(
        "logout",
        "Log out",
        "auth",
        roles=(),
        body=RefreshRequest,
        replies=(Reply(204, "Logged out."),),
        problems=(503,),
        description="Revokes the login (refresh-token family) of a refresh token of the "
        "caller, and the access token the caller presents: both are refused from then on.",
    )
)
async def logout(request: web.Request, body: RefreshRequest) -> web.Response:
    await core(request).auth.logout(request[CALLER], body.refresh_token)
    return web.Response(status=204)


@routes.get("/api/auth/me")
@documented(
    Operation(
        "getMe",
        "Who am I",
        "auth",
        roles=(),
        replies=(Reply(200, "The caller.", Account),),
    )
)
async def me(request: web.Request) -> web.Response:
    caller = request[CALLER]
    return json_response(
        {"user_id": caller.user_id, "username": caller.username, "role": caller.role}
    )


def session_routes() -> list[web.AbstractRouteDef]:
    """Log in, refresh, log out and who-am-I, without self-registration: what an app
    whose accounts are all made by an operator serves (the head office)."""
    return [
        route
        for route in routes
        if not (isinstance(route, web.RouteDef) and route.path == "/api/auth/register")
    ]
