"""No NUL character reaches the database as text: PostgreSQL refuses it in any text value (a 500 deep
in the driver), and no name, bio, title or filter holds one. A request whose query, form or JSON
body carries one is refused first, in the one error shape (422), naming the character. File
uploads (multipart bodies) are binary and pass; their text fields are checked by the routes. So do
the PSP webhooks (their own strict parsing, limits and signatures see the raw request) and a body
larger than MAX_CHECKED or of unknown length: the routes' own size limits refuse those, at once.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tgadmin.errors import ErrorRead
from tgadmin.web.errors import refuse

# A NUL as it travels: %00 in a query or a form, \u0000 in JSON, or the raw byte.
_ENCODED = re.compile(rb"%00|\\u0000|\x00", re.IGNORECASE)
_CHECKED = (b"application/json", b"application/x-www-form-urlencoded")
MAX_CHECKED = 1024 * 1024
_UNCHECKED_PATHS = ("/webhooks/",)
REFUSAL = ErrorRead(
    error="invalid_input",
    message="text cannot contain the NUL character (\\u0000); remove it and send again",
)


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _ENCODED.search(scope.get("query_string", b"")):
            await self._refuse(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        length = headers.get(b"content-length", b"")
        small = length.isdigit() and int(length) <= MAX_CHECKED
        if kind not in _CHECKED or not small or str(scope.get("path", "")).startswith(_UNCHECKED_PATHS):
            await self.app(scope, receive, send)
            return
        body, messages = await _read(receive)
        if _ENCODED.search(body):
            await self._refuse(scope, _replay(messages, receive), send)
            return
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = refuse(Request(scope, receive), 422, REFUSAL)
        await response(scope, receive, send)


async def _read(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The body as it was read, then the connection's own messages (a disconnect, when it comes)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive
