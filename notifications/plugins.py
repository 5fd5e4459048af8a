"""apprise plugins for rectify's own schemes (see urls.py).

DingTalk, WeCom and Feishu answer HTTP 200 even when they reject a message (rate limit,
keyword mismatch, bad signature); the error is a code in the body. These plugins read the
body and report a non-zero code as a failure, naming it. Importing this module registers
them with apprise. Nothing here logs a token or a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from apprise.decorators import notify

logger = logging.getLogger("apprise")
TIMEOUT = 10.0
DINGTALK_API = "https://oapi.dingtalk.com"
WECOM_API = "https://qyapi.weixin.qq.com"
FEISHU_API = "https://open.feishu.cn"


def _api(meta: dict, default: str) -> str:
    return (meta.get("qsd", {}).get("api") or default).rstrip("/")


def _segments(meta: dict) -> list[str]:
    return [meta.get("host", "")] + [p for p in meta.get("fullpath", "").split("/") if p]


def _post(service: str, url: str, payload: dict, *, params: dict | None = None,
          code_keys: tuple[str, ...] = ("errcode",)) -> bool:
    try:
        response = httpx.post(url, params=params, json=payload, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        logger.warning("%s 连接失败:%s", service, type(exc).__name__)
        return False
    return _answer(service, response, code_keys)


def _answer(service: str, response: httpx.Response, code_keys: tuple[str, ...]) -> bool:
    if response.status_code != 200:
        logger.warning("%s 返回 HTTP %s", service, response.status_code)
        return False
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        logger.warning("%s 返回的不是 JSON", service)
        return False
    for key in code_keys:
        if key in body:
            code = body[key]
            if code not in (0, "0"):
                message = body.get("errmsg") or body.get("msg") or ""
                logger.warning("%s 拒绝了消息:错误码 %s(%s)", service, code, message)
                return False
            return True
    logger.warning("%s 的回答中没有错误码字段", service)
    return False


def _dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@notify(on="rdingtalk", name="钉钉群机器人(rectify)")
def dingtalk(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    segments = _segments(meta)
    token, secret = segments[0], (segments[1] if len(segments) > 1 else None)
    params = {"access_token": token}
    if secret:
        timestamp = int(time.time() * 1000)
        params.update(timestamp=str(timestamp), sign=_dingtalk_sign(secret, timestamp))
    payload = {"msgtype": "markdown", "markdown": {"title": title or "通知", "text": body}}
    return _post("钉钉机器人", f"{_api(meta, DINGTALK_API)}/robot/send", payload, params=params)


@notify(on="rwecombot", name="企业微信群机器人(rectify)")
def wecombot(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    payload = {"msgtype": "markdown", "markdown": {"content": body}}
    return _post("企业微信机器人", f"{_api(meta, WECOM_API)}/cgi-bin/webhook/send", payload,
                 params={"key": _segments(meta)[0]})


_tokens: dict[tuple[str, ...], tuple[str, float]] = {}


def _token(service: str, key: tuple[str, ...], fetch, *, code_key: str, field: str, lifetime: str) -> str | None:
    """An app's access token, kept until five minutes before it ends: `fetch()` asks the service."""
    cached = _tokens.get(key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    try:
        response = fetch()
    except httpx.HTTPError as exc:
        logger.warning("%s 获取令牌失败:%s", service, type(exc).__name__)
        return None
    if not _answer(f"{service}(获取令牌)", response, (code_key,)):
        return None
    data = response.json()
    _tokens[key] = (data[field], time.monotonic() + int(data.get(lifetime, 7200)) - 300)
    return data[field]


def _wecom_token(api: str, corp: str, secret: str) -> str | None:
    return _token("企业微信应用", ("wecom", corp, secret), lambda: httpx.get(
        f"{api}/cgi-bin/gettoken", params={"corpid": corp, "corpsecret": secret}, timeout=TIMEOUT),
        code_key="errcode", field="access_token", lifetime="expires_in")


@notify(on="rwecomapp", name="企业微信应用消息(rectify)")
def wecomapp(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    segments = _segments(meta)
    if len(segments) < 3:
        logger.warning("企业微信应用 地址应为 rwecomapp://企业ID/应用ID/应用Secret")
        return False
    corp, agent, secret = segments[:3]
    api = _api(meta, WECOM_API)
    token = _wecom_token(api, corp, secret)
    if token is None:
        return False
    payload = {"touser": meta.get("qsd", {}).get("to", "@all"), "msgtype": "markdown", "agentid": int(agent),
               "markdown": {"content": body}}
    return _post("企业微信应用", f"{api}/cgi-bin/message/send", payload, params={"access_token": token})


def _feishu_sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@notify(on="rfeishu", name="飞书群机器人(rectify)")
def feishu(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    segments = _segments(meta)
    token, secret = segments[0], (segments[1] if len(segments) > 1 else None)
    # A message card: its lark_md text carries links and bold, not headings (they become bold).
    text = re.sub(r"^#{1,6} +(.+)$", r"**\1**", body, flags=re.MULTILINE)
    payload: dict[str, Any] = {"msg_type": "interactive", "card": {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title or "通知"}},
        "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}]}}
    if secret:
        timestamp = int(time.time())
        payload.update(timestamp=str(timestamp), sign=_feishu_sign(secret, timestamp))
    return _post("飞书机器人", f"{_api(meta, FEISHU_API)}/open-apis/bot/v2/hook/{token}", payload,
                 code_keys=("code", "StatusCode"))


# -- what a channel that reports reads hands back --------------------------------------------
# send() opens a list here before it calls apprise; a plugin whose service returns a message
# id it can later ask about (a DingTalk task, Feishu messages) appends it. The list object is
# shared with any thread apprise copies the context into.
receipts: ContextVar[list[dict[str, Any]] | None] = ContextVar("rectify_receipts", default=None)


def _receipt(service: str, ref: Any, to: list[str]) -> None:
    found = receipts.get()
    if found is not None:
        found.append({"service": service, "ref": ref, "to": to})


def _to(meta: dict) -> list[str]:
    return [t for t in re.split(r"[|,\s]+", meta.get("qsd", {}).get("to", "")) if t]


# -- SMS ---------------------------------------------------------------------------------------
ALIYUN_SMS_API = "https://dysmsapi.aliyuncs.com"
TENCENT_SMS_API = "https://sms.tencentcloudapi.com"


def sms_params(body: str) -> dict[str, str]:
    """The template's parameters: the body is their JSON (messages.render_sms)."""
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {"content": body[:35]}


def aliyun_signature(secret: str, params: dict[str, str], method: str = "POST") -> str:
    """Aliyun's RPC signature (version 1.0): HMAC-SHA1 over the sorted, percent-encoded query."""
    def encode(text: str) -> str:
        return quote(text, safe="~")

    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{encode('/')}&{encode(canonical)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


@notify(on="raliyunsms", name="阿里云短信(rectify)")
def aliyun_sms(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    segments = _segments(meta)
    qsd = meta.get("qsd", {})
    if len(segments) < 3 or not qsd.get("signname"):
        logger.warning("阿里云短信 地址应为 raliyunsms://AccessKeyId/AccessKeySecret/模板CODE?signname=签名&to=手机号")
        return False
    key, secret, template = segments[0], unquote(segments[1]), segments[2]
    phones = _to(meta)
    if not phones:
        logger.warning("阿里云短信 没有收信手机号")
        return False
    params = {"AccessKeyId": key, "Action": "SendSms", "Format": "JSON", "PhoneNumbers": ",".join(phones),
              "RegionId": "cn-hangzhou", "SignName": qsd["signname"], "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
              "TemplateCode": template, "TemplateParam": json.dumps(sms_params(body), ensure_ascii=False),
              "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25"}
    params["Signature"] = aliyun_signature(secret, params)
    try:
        response = httpx.post(_api(meta, ALIYUN_SMS_API) + "/", data=params, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        logger.warning("阿里云短信 连接失败:%s", type(exc).__name__)
        return False
    # Aliyun answers its refusals (flow control, a bad signature) in the body, with 200 or 4xx.
    try:
        answer = response.json()
    except ValueError:
        logger.warning("阿里云短信 返回 HTTP %s,不是 JSON", response.status_code)
        return False
    if answer.get("Code") != "OK":
        logger.warning("阿里云短信 拒绝了消息:错误码 %s(%s)", answer.get("Code"), answer.get("Message", ""))
        return False
    return True


def tencent_authorization(secret_id: str, secret_key: str, *, host: str, payload: bytes, timestamp: int,
                          service: str = "sms") -> str:
    """Tencent Cloud's TC3-HMAC-SHA256 signature over the request."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(["POST", "/", "", f"content-type:application/json; charset=utf-8\nhost:{host}\n",
                           "content-type;host", hashlib.sha256(payload).hexdigest()])
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, "
            f"Signature={signature}")


@notify(on="rtencentsms", name="腾讯云短信(rectify)")
def tencent_sms(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    segments = _segments(meta)
    qsd = meta.get("qsd", {})
    if len(segments) < 4 or not qsd.get("signname"):
        logger.warning("腾讯云短信 地址应为 rtencentsms://SecretId/SecretKey/SdkAppId/模板ID?signname=签名&to=手机号")
        return False
    secret_id, secret_key, app_id, template = segments[0], unquote(segments[1]), segments[2], segments[3]
    phones = _to(meta)
    if not phones:
        logger.warning("腾讯云短信 没有收信手机号")
        return False
    api = _api(meta, TENCENT_SMS_API)
    payload = json.dumps({"PhoneNumberSet": [p if p.startswith("+") else f"+86{p}" for p in phones],
                          "SmsSdkAppId": app_id, "SignName": qsd["signname"], "TemplateId": template,
                          "TemplateParamSet": list(sms_params(body).values())}, ensure_ascii=False).encode()
    host = urlsplit(api).netloc
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json; charset=utf-8", "Host": host, "X-TC-Action": "SendSms",
               "X-TC-Version": "2021-01-11", "X-TC-Region": qsd.get("region", "ap-guangzhou"),
               "X-TC-Timestamp": str(timestamp),
               "Authorization": tencent_authorization(secret_id, secret_key, host=host, payload=payload,
                                                      timestamp=timestamp)}
    try:
        response = httpx.post(api + "/", content=payload, headers=headers, timeout=TIMEOUT)
        answer = response.json().get("Response", {})
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        logger.warning("腾讯云短信 请求失败:%s", type(exc).__name__)
        return False
    if "Error" in answer:
        error = answer["Error"]
        logger.warning("腾讯云短信 拒绝了请求:错误码 %s(%s)", error.get("Code"), error.get("Message", ""))
        return False
    # The request can pass and a number still be refused (its daily limit, say): each is checked.
    refused = [s for s in answer.get("SendStatusSet", []) if s.get("Code") != "Ok"]
    for status in refused:
        logger.warning("腾讯云短信 未发出:错误码 %s(%s)", status.get("Code"), status.get("Message", ""))
    return bool(answer.get("SendStatusSet")) and not refused


# -- DingTalk work notices (工作通知) ------------------------------------------------------------
def _dingtalk_token(api: str, key: str, secret: str) -> str | None:
    return _token("钉钉工作通知", ("dingtalk", key, secret), lambda: httpx.get(
        f"{api}/gettoken", params={"appkey": key, "appsecret": secret}, timeout=TIMEOUT),
        code_key="errcode", field="access_token", lifetime="expires_in")


def _dingwork_parts(meta: dict) -> tuple[str, str, str, str] | None:
    segments = _segments(meta)
    if len(segments) < 3:
        logger.warning("钉钉工作通知 地址应为 rdingwork://AppKey/AppSecret/AgentId?to=用户ID")
        return None
    return _api(meta, DINGTALK_API), segments[0], unquote(segments[1]), segments[2]


@notify(on="rdingwork", name="钉钉工作通知(rectify)")
def dingwork(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    parts = _dingwork_parts(meta)
    to = _to(meta)
    if parts is None or not to:
        if parts is not None:
            logger.warning("钉钉工作通知 没有收件人(to=钉钉用户ID)")
        return False
    api, key, secret, agent = parts
    token = _dingtalk_token(api, key, secret)
    if token is None:
        return False
    payload = {"agent_id": int(agent), "userid_list": ",".join(to),
               "msg": {"msgtype": "markdown", "markdown": {"title": title or "通知", "text": body}}}
    try:
        response = httpx.post(f"{api}/topapi/message/corpconversation/asyncsend_v2", params={"access_token": token},
                              json=payload, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        logger.warning("钉钉工作通知 连接失败:%s", type(exc).__name__)
        return False
    if not _answer("钉钉工作通知", response, ("errcode",)):
        return False
    _receipt("dingwork", response.json().get("task_id"), to)
    return True


def dingwork_reads(url: str, receipt: dict[str, Any]) -> set[str] | None:
    """Who has read a work notice (getsendresult), or None when DingTalk could not be asked."""
    from apprise.utils.parse import parse_url

    meta = parse_url(url, verify_host=False) or {}
    parts = _dingwork_parts(meta)
    if parts is None:
        return None
    api, key, secret, agent = parts
    token = _dingtalk_token(api, key, secret)
    if token is None:
        return None
    try:
        response = httpx.post(f"{api}/topapi/message/corpconversation/getsendresult", params={"access_token": token},
                              json={"agent_id": int(agent), "task_id": receipt["ref"]}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        logger.warning("钉钉工作通知 查询已读失败:%s", type(exc).__name__)
        return None
    if not _answer("钉钉工作通知(查询已读)", response, ("errcode",)):
        return None
    return set(response.json().get("send_result", {}).get("read_user_id_list") or [])


# -- Feishu app messages (应用消息, with reads) --------------------------------------------------
def _feishu_token(api: str, app_id: str, secret: str) -> str | None:
    return _token("飞书应用", ("feishu", app_id, secret), lambda: httpx.post(
        f"{api}/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": app_id, "app_secret": secret},
        timeout=TIMEOUT), code_key="code", field="tenant_access_token", lifetime="expire")


def _feishu_parts(meta: dict) -> tuple[str, str, str] | None:
    segments = _segments(meta)
    if len(segments) < 2:
        logger.warning("飞书应用 地址应为 rfeishuapp://AppId/AppSecret?to=用户ID")
        return None
    return _api(meta, FEISHU_API), segments[0], unquote(segments[1])


@notify(on="rfeishuapp", name="飞书应用消息(rectify)")
def feishuapp(body: str, title: str, notify_type, meta: dict, *args, **kwargs) -> bool:
    parts = _feishu_parts(meta)
    to = _to(meta)
    if parts is None or not to:
        if parts is not None:
            logger.warning("飞书应用 没有收件人(to=飞书用户ID)")
        return False
    api, app_id, secret = parts
    token = _feishu_token(api, app_id, secret)
    if token is None:
        return False
    text = re.sub(r"^#{1,6} +(.+)$", r"**\1**", body, flags=re.MULTILINE)
    card = {"config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title or "通知"}},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}]}
    sent = []
    for user in to:  # Feishu sends to one receiver per message
        try:
            response = httpx.post(f"{api}/open-apis/im/v1/messages", params={"receive_id_type": "user_id"},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT,
                                  json={"receive_id": user, "msg_type": "interactive",
                                        "content": json.dumps(card, ensure_ascii=False)})
        except httpx.HTTPError as exc:
            logger.warning("飞书应用 连接失败:%s", type(exc).__name__)
            return False
        if not _answer("飞书应用", response, ("code",)):
            return False
        sent.append(response.json().get("data", {}).get("message_id"))
    _receipt("feishuapp", sent, to)
    return True


def feishuapp_reads(url: str, receipt: dict[str, Any]) -> set[str] | None:
    """Who has read the messages (read_users of each), or None when Feishu could not be asked."""
    from apprise.utils.parse import parse_url

    meta = parse_url(url, verify_host=False) or {}
    parts = _feishu_parts(meta)
    if parts is None:
        return None
    api, app_id, secret = parts
    token = _feishu_token(api, app_id, secret)
    if token is None:
        return None
    readers: set[str] = set()
    for message_id in receipt.get("ref") or []:
        try:
            response = httpx.get(f"{api}/open-apis/im/v1/messages/{message_id}/read_users",
                                 params={"user_id_type": "user_id"}, headers={"Authorization": f"Bearer {token}"},
                                 timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            logger.warning("飞书应用 查询已读失败:%s", type(exc).__name__)
            return None
        if not _answer("飞书应用(查询已读)", response, ("code",)):
            return None
        readers |= {i.get("user_id") for i in response.json().get("data", {}).get("items", [])}
    return readers


READS = {"dingwork": dingwork_reads, "feishuapp": feishuapp_reads}
