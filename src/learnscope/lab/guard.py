"""The lab's HTTP boundary: who may talk to it, and how much they may send.

`LabGuard` is an ASGI middleware in front of every route (pages, NiceGUI's websocket, uploads):
- the Host header must name this lab: the loopback names, or the --host the lab was started with. A page on
  another site that makes its own domain resolve to 127.0.0.1 (DNS rebinding) is refused;
- a browser's Origin header, when sent (websockets, form posts), must name this lab too: another site's page cannot
  open a websocket to it or post to it. Served on every address (0.0.0.0), any Host is accepted, but the Origin
  must still be the Host the request came to;
- an upload must be multipart form data of at most `upload_limit_bytes`: the limit the page sets in the browser
  holds for a script as well, and the body is counted as it arrives, never buffered past the limit.
Refusals are 4xx answers with a one-line reason, never a 500.
"""

from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
EVERY_ADDRESS = frozenset({"0.0.0.0", "::"})
#: NiceGUI's upload routes: /_nicegui/client/<client id>/upload/<element id>
UPLOAD_MARK = "/upload/"
#: Multipart framing around the file itself (boundaries, headers)
MULTIPART_OVERHEAD = 64 * 1024


def allowed_hosts(host: str) -> frozenset[str] | None:
    """The host names a lab served on `host` answers to, or None for every name (served on every address)."""
    if host in EVERY_ADDRESS:
        return None
    return LOOPBACK_NAMES | {host.strip("[]").lower()}


def host_name(netloc: str) -> str:
    """'localhost:8080' -> 'localhost', '[::1]:8080' -> '::1' (lower case)."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:                          # a malformed port or bracket
        return ""


class LabGuard:
    """ASGI middleware: Host and Origin allow-list and the upload limit (see the module docstring)."""

    def __init__(self, app, hosts: frozenset[str] | None, upload_limit_bytes: int):
        self.app, self.hosts, self.upload_limit = app, hosts, upload_limit_bytes + MULTIPART_OVERHEAD

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        problem = self._problem(scope, headers)
        if problem:
            return await _refuse(scope, receive, send, *problem)
        if scope["type"] == "http" and scope["method"] == "POST" and UPLOAD_MARK in scope["path"]:
            return await self._upload(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _upload(self, scope, receive, send) -> None:
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._counted(receive), tracking_send)
        except UploadTooLarge as error:
            if not started:
                await _refuse(scope, receive, send, 413, str(error))

    def _problem(self, scope, headers: dict) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if self.hosts is not None and host_name(host) not in self.hosts:
            return 400, f"This lab answers to {', '.join(sorted(self.hosts))}, not to the host {host!r}."
        origin = headers.get("origin")
        if origin is not None:
            origin_host = host_name(urlsplit(origin).netloc) if origin != "null" else ""
            trusted = self.hosts if self.hosts is not None else {host_name(host)}
            if origin_host not in trusted:
                return 403, f"Requests from pages of {origin!r} are refused: only the lab's own pages may talk to it."
        if scope["type"] == "http" and scope["method"] == "POST" and UPLOAD_MARK in scope["path"]:
            if not headers.get("content-type", "").startswith("multipart/form-data"):
                return 400, "An upload must be sent as multipart/form-data (a file chosen in the page)."
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.upload_limit):
                return 413, (f"Uploads are limited to {self.upload_limit - MULTIPART_OVERHEAD:,} bytes; this one "
                             f"announced {length} bytes. Upload a smaller file.")
        return None

    def _counted(self, receive):
        """receive(), refusing the body once it passes the limit (a chunked upload announces no length)."""
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.upload_limit:
                    raise UploadTooLarge(self.upload_limit - MULTIPART_OVERHEAD)
            return message

        return counted


class UploadTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"Uploads are limited to {limit:,} bytes. Upload a smaller file.")


async def _refuse(scope, receive, send, status: int, reason: str) -> None:
    if scope["type"] == "websocket":
        await receive()                         # the websocket.connect message
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
        return
    body = (reason + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
