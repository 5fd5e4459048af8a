"""Security headers on every answer, and a bound on the request body, as a plain ASGI wrapper
(no per-request middleware stack).

Pages get a Content-Security-Policy that allows only this origin's styles, scripts and images
(no inline script), no framing, and no form posts elsewhere; every answer gets nosniff, a
strict Referrer-Policy and X-Frame-Options for older browsers. The API's documentation page
loads Swagger UI and is left without the page policy."""

from __future__ import annotations

PAGE_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
          (b"x-frame-options", b"DENY")]
UNPOLICED = ("/api/docs",)
# The largest request body read at all: a step's files (policy evidence_max_request_bytes,
# 50 MB) and its fields. Larger is refused before a byte is parsed or spooled to disk.
MAX_BODY = 64 << 20
TOO_LARGE = "请求过大:一次上传的文件合计不能超过 {} MB".format(MAX_BODY >> 20).encode()


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            return await self.refuse(send, extra=COMMON)
        receive = self.bounded(receive)
        extra = list(COMMON)
        if not scope["path"].startswith(UNPOLICED):
            extra.append((b"content-security-policy", PAGE_POLICY.encode()))

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        return await self.app(scope, receive, with_headers)

    @staticmethod
    async def refuse(send, *, extra) -> None:
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), *extra]})
        await send({"type": "http.response.body", "body": TOO_LARGE})

    @staticmethod
    def bounded(receive):
        """A body sent without its length (chunked) ends the request once it passes MAX_BODY."""
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            return {"type": "http.disconnect"} if seen > MAX_BODY else message

        return counted
