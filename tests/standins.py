"""Local stand-ins for the services messages go to: DingTalk, WeCom and Feishu robots (HTTP,
checking each payload the way the real service does and answering with its real success and
error bodies) and an SMTP server (aiosmtpd). Tests start them on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import defaultdict, deque
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

OK_DINGTALK = {"errcode": 0, "errmsg": "ok"}
OK_WECOM = {"errcode": 0, "errmsg": "ok"}
OK_FEISHU = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
DINGTALK_TOO_FAST = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
DINGTALK_KEYWORD = {"errcode": 310000, "errmsg": "keywords not in content"}
DINGTALK_BAD_SIGN = {"errcode": 310000, "errmsg": "sign not match"}
WECOM_FREQ = {"errcode": 45009, "errmsg": "api freq out of limit"}
WECOM_TOO_LONG = {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
FEISHU_BAD_SIGN = {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}


class Robots:
    """One HTTP server for all three robots. `answers[service]` queues the bodies to return."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: dict[str, deque] = defaultdict(deque)
        self.secrets: dict[str, str] = {}  # token -> signing secret to verify
        self.delay = 0.0  # seconds before each answer, as a slow service takes
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                time.sleep(robots.delay)
                self._reply(robots.handle(url.path, query, body))

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/gettoken":
                    ok = query.get("corpsecret") == robots.secrets.get(query.get("corpid", ""))
                    self._reply({"errcode": 0, "errmsg": "ok", "access_token": "AT-1", "expires_in": 7200} if ok
                                else {"errcode": 40001, "errmsg": "invalid credential"})
                else:
                    self._reply({"errcode": 404, "errmsg": "not found"})

            def _reply(self, data: dict) -> None:
                raw = json.dumps(data).encode()
                self.send_response(200)  # these services answer 200 even when they refuse
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Robots:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, service: str) -> list[dict]:
        return [r for r in self.requests if r["service"] == service]

    def handle(self, path: str, query: dict, body: dict) -> dict:
        if path == "/robot/send":
            return self._record("dingtalk", query, body, self._dingtalk(query, body), OK_DINGTALK)
        if path == "/cgi-bin/webhook/send":
            problem = None
            if body.get("msgtype") != "markdown" or "content" not in body.get("markdown", {}):
                problem = {"errcode": 40008, "errmsg": "invalid message type"}
            elif len(body["markdown"]["content"].encode()) > 4096:
                problem = WECOM_TOO_LONG
            return self._record("wecombot", query, body, problem, OK_WECOM)
        if path == "/cgi-bin/message/send":
            problem = (
                None if query.get("access_token") == "AT-1" else {"errcode": 40014, "errmsg": "invalid access_token"}
            )
            return self._record("wecomapp", query, body, problem, OK_WECOM)
        if path.startswith("/open-apis/bot/v2/hook/"):
            token = path.rsplit("/", 1)[1]
            return self._record("feishu", query, body, self._feishu(token, body), OK_FEISHU)
        return {"errcode": 404, "errmsg": "not found"}

    def _record(self, service: str, query: dict, body: dict, problem: dict | None, ok: dict) -> dict:
        answer = problem or (self.answers[service].popleft() if self.answers[service] else ok)
        self.requests.append({"service": service, "query": query, "body": body, "answer": answer})
        return answer

    def _dingtalk(self, query: dict, body: dict) -> dict | None:
        if body.get("msgtype") != "markdown" or not {"title", "text"} <= set(body.get("markdown", {})):
            return {"errcode": 40035, "errmsg": "缺少参数 json"}
        secret = self.secrets.get(query.get("access_token", ""))
        if secret:
            timestamp = query.get("timestamp", "")
            expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if query.get("sign") != expected:
                return DINGTALK_BAD_SIGN
        return None

    def _feishu(self, token: str, body: dict) -> dict | None:
        # The two forms the custom bot takes: text, and the message card (interactive).
        card = body.get("card", {})
        if not ((body.get("msg_type") == "text" and "text" in body.get("content", {}))
                or (body.get("msg_type") == "interactive" and card.get("elements"))):
            return {"code": 9499, "msg": "Bad Request"}
        secret = self.secrets.get(token)
        if secret:
            timestamp = body.get("timestamp", "")
            expected = base64.b64encode(
                hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
            ).decode()
            if body.get("sign") != expected:
                return FEISHU_BAD_SIGN
        return None


class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the aiosmtpd API
                message = message_from_bytes(envelope.content, policy=policy.default)
                mailbox.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "subject": str(message["subject"]),
                        "body": message.get_body(("plain", "html")).get_content(),
                        "attachments": {a.get_filename(): a.get_content() for a in message.iter_attachments()},
                    }
                )
                return "250 Message accepted for delivery"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def url(self, to: str) -> str:
        return f"mailto://localhost:{self.port}?from=rectify@example.com&to={to}"
