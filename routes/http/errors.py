"""Unexpected errors answered inside the app, so the client's connection stays usable.

Starlette's ServerErrorMiddleware sends the app's 500 and then re-raises the error for the
server to log; uvicorn then closes a connection whose app raised after its response began, with
no `Connection: close`: a keep-alive client (a browser, a scanner) sent its next request on a
connection the server had just closed and saw "connection reset by peer". This middleware, the
innermost of ours, answers the error itself and ends the request normally. The request's session
is already rolled back by then: its dependency closes it when the endpoint raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Handler = Callable[[Request, Exception], Awaitable[Response]]


class UnexpectedErrors:
    """Pure ASGI middleware: an exception before the response began becomes `handler`'s 500."""

    def __init__(self, app: ASGIApp, handler: Handler) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:
                # Half a response was sent: only closing the connection can tell the client.
                raise
            response = await self.handler(Request(scope, receive), exc)
            await response(scope, receive, send)
