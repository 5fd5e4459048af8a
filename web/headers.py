"""Security headers on every answer, as a plain ASGI wrapper (no per-request middleware stack).

Pages get a Content-Security-Policy that allows only this origin's styles, scripts and images
(no inline script), no framing, and no form posts elsewhere; every answer gets nosniff, a
strict Referrer-Policy and X-Frame-Options for older browsers. The API's documentation page
loads Swagger UI and is left without the page policy."""

from __future__ import annotations

PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
          (b"x-frame-options", b"DENY")]
UNPOLICED = ("/api/docs",)


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = list(COMMON)
        if not scope["path"].startswith(UNPOLICED):
            extra.append((b"content-security-policy", PAGE_POLICY.encode()))

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        return await self.app(scope, receive, with_headers)
