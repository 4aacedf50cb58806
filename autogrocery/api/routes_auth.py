"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.bodies import Field, json_response, read_json
from autogrocery.api.context import principal, state

routes = web.RouteTableDef()

CREDENTIALS = {"username": Field(str), "password": Field(str)}
REFRESH = {"refresh_token": Field(str)}


@routes.post("/api/auth/register")
async def register(request: web.Request) -> web.Response:
    body = await read_json(
        request,
        {
            **CREDENTIALS,
            "email": Field(str, required=False, nullable=True),
            "phone": Field(str, required=False, nullable=True),
        },
    )
    account = await state(request).auth.create_account(
        body["username"], body["password"], "device", body.get("email"), body.get("phone")
    )
    return json_response(account, status=201)


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, CREDENTIALS)
    client = request.remote or "unknown"
    tokens = await state(request).auth.login(body["username"], body["password"], client)
    return json_response(tokens)


@routes.post("/api/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    body = await read_json(request, REFRESH)
    return json_response(await state(request).auth.refresh(body["refresh_token"]))


@routes.post("/api/auth/logout")
async def logout(request: web.Request) -> web.Response:
    caller = principal(request)
    body = await read_json(request, REFRESH)
    await state(request).auth.logout(caller, body["refresh_token"])
    return web.Response(status=204)


@routes.get("/api/auth/me")
async def me(request: web.Request) -> web.Response:
    caller = principal(request)
    return json_response(
        {"user_id": caller.user_id, "username": caller.username, "role": caller.role}
    )
