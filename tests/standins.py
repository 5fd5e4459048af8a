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


# The providers' real answers (their documentation's examples), success and refusal.
ALIYUN_OK = {"Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "Code": "OK",
             "BizId": "900619746936498440^0"}
ALIYUN_LIMIT = {"Message": "触发天级流控Permits:10", "RequestId": "E3F11903-3F92-4245-8FDD-407BAE980FCA",
                "Code": "isv.BUSINESS_LIMIT_CONTROL"}
ALIYUN_BAD_SIGNATURE = {"RequestId": "8E2A8C9B-6D4C-4C4B-9B2E-3C2F0E4B5D6A", "HostId": "dysmsapi.aliyuncs.com",
                        "Code": "SignatureDoesNotMatch",
                        "Message": "Specified signature is not matched with our calculation."}
TENCENT_LIMIT = {"Code": "LimitExceeded.PhoneNumberDailyLimit",
                 "Message": "the number of sms messages sent from a single mobile number every day exceeds the "
                            "upper limit"}
TENCENT_BAD_SIGNATURE = {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials "
                                   "could not be validated. Please check your signature is correct."},
                         "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}


class Providers:
    """Aliyun and Tencent Cloud SMS, DingTalk work notices and Feishu app messages on one HTTP
    server: each request is checked as the service checks it (signatures, tokens, fields) and
    answered with the service's real bodies. `read_by` is who has read what was sent;
    `answers[service]` queues refusals to return."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: dict[str, deque] = defaultdict(deque)
        self.keys: dict[str, str] = {}  # access key id / secret id / app key / app id -> its secret
        self.read_by: set[str] = set()
        self.sent: dict[str, list[str]] = {}  # task or message id -> the users it went to
        providers = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                raw = self._body()
                status, answer = providers.post(url.path, query, dict(self.headers), raw)
                self._reply(answer, status)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                self._reply(providers.get(url.path, query, dict(self.headers)), 200)

            def _reply(self, data: dict, status: int) -> None:
                raw = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Providers:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, service: str) -> list[dict]:
        return [r for r in self.requests if r["service"] == service]

    def _note(self, service: str, request: dict, answer: dict) -> dict:
        self.requests.append({"service": service, **request, "answer": answer})
        return answer

    def _queued(self, service: str) -> dict | None:
        return self.answers[service].popleft() if self.answers[service] else None

    def post(self, path: str, query: dict, headers: dict, raw: bytes) -> tuple[int, dict]:
        if path == "/" and headers.get("X-TC-Action") == "SendSms":
            return 200, {"Response": self._tencent(headers, raw)}
        if path == "/":
            return self._aliyun({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        body = json.loads(raw or b"{}")
        if path == "/topapi/message/corpconversation/asyncsend_v2":
            if query.get("access_token") != "DT-1":
                return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
            problem = self._queued("dingwork")
            if problem:
                return 200, self._note("dingwork", {"body": body}, problem)
            task = 256271667526 + len(self.sent)
            self.sent[str(task)] = body["userid_list"].split(",")
            return 200, self._note("dingwork", {"body": body}, {"errcode": 0, "task_id": task,
                                                                  "request_id": "4jzllmte0wau"})
        if path == "/topapi/message/corpconversation/getsendresult":
            users = self.sent.get(str(body.get("task_id")), [])
            return 200, {"errcode": 0, "request_id": "hvj9jl3dq8a8", "send_result": {
                "invalid_user_id_list": [], "forbidden_user_id_list": [], "failed_user_id_list": [],
                "read_user_id_list": [u for u in users if u in self.read_by],
                "unread_user_id_list": [u for u in users if u not in self.read_by],
                "invalid_dept_id_list": [], "forbidden_list": []}}
        if path == "/open-apis/auth/v3/tenant_access_token/internal":
            ok = self.keys.get(body.get("app_id", "")) == body.get("app_secret")
            return 200, ({"code": 0, "msg": "ok", "tenant_access_token": "t-caecc734c2e3328a62489fe0648c4b9",
                          "expire": 7200} if ok else {"code": 10014, "msg": "app secret invalid"})
        if path == "/open-apis/im/v1/messages":
            if headers.get("Authorization") != "Bearer t-caecc734c2e3328a62489fe0648c4b9":
                return 200, {"code": 99991663, "msg": "Invalid access token for authorization."}
            message = f"om_dc13264520392913993dd051dba21d{len(self.sent):02d}"
            self.sent[message] = [body["receive_id"]]
            return 200, self._note("feishuapp", {"body": body}, {"code": 0, "msg": "success", "data": {
                "message_id": message, "msg_type": body["msg_type"], "create_time": "1615380573411"}})
        return 404, {"errcode": 404, "errmsg": "not found"}

    def get(self, path: str, query: dict, headers: dict) -> dict:
        if path == "/gettoken":
            ok = self.keys.get(query.get("appkey", "")) == query.get("appsecret")
            return ({"errcode": 0, "access_token": "DT-1", "errmsg": "ok", "expires_in": 7200} if ok
                    else {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
        if path.startswith("/open-apis/im/v1/messages/") and path.endswith("/read_users"):
            message = path.split("/")[-2]
            return {"code": 0, "msg": "success", "data": {"has_more": False, "page_token": "", "items": [
                {"user_id_type": "user_id", "user_id": u, "timestamp": "1609484183000",
                 "tenant_key": "736588c9260f175e"} for u in self.sent.get(message, []) if u in self.read_by]}}
        return {"errcode": 404, "errmsg": "not found"}

    def _aliyun(self, params: dict) -> tuple[int, dict]:
        from urllib.parse import quote

        signature = params.pop("Signature", "")
        secret = self.keys.get(params.get("AccessKeyId", ""), "")
        canonical = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(params.items()))
        to_sign = "POST&%2F&" + quote(canonical, safe="~")
        expected = base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        request = {"params": params}
        if signature != expected:
            return 400, self._note("aliyunsms", request, ALIYUN_BAD_SIGNATURE)
        return 200, self._note("aliyunsms", request, self._queued("aliyunsms") or ALIYUN_OK)

    def _tencent(self, headers: dict, raw: bytes) -> dict:
        from datetime import UTC, datetime

        body = json.loads(raw)
        credential = headers.get("Authorization", "").split("Credential=")[-1].split(",")[0]
        secret_id, day = credential.split("/")[0], credential.split("/")[1] if "/" in credential else ""
        secret = self.keys.get(secret_id, "")
        host, timestamp = headers.get("Host", ""), headers.get("X-TC-Timestamp", "0")
        canonical = (f"POST\n/\n\ncontent-type:{headers.get('Content-Type')}\nhost:{host}\n\ncontent-type;host\n"
                     + hashlib.sha256(raw).hexdigest())
        to_sign = (f"TC3-HMAC-SHA256\n{timestamp}\n{day}/sms/tc3_request\n"
                   + hashlib.sha256(canonical.encode()).hexdigest())
        key = f"TC3{secret}".encode()
        for part in (day, "sms", "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        fresh = day == datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
        if not fresh or not headers.get("Authorization", "").endswith(f"Signature={expected}"):
            return self._note("tencentsms", {"body": body}, TENCENT_BAD_SIGNATURE)
        refusal = self._queued("tencentsms")
        statuses = [{"SerialNo": f"5000:10457106691570536578494996{n}", "PhoneNumber": phone,
                     "Fee": 0 if refusal else 1, "SessionContext": "", "IsoCode": "CN",
                     **(refusal or {"Code": "Ok", "Message": "send success"})}
                    for n, phone in enumerate(body["PhoneNumberSet"])]
        return self._note("tencentsms", {"body": body}, {"SendStatusSet": statuses,
                                                         "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"})
