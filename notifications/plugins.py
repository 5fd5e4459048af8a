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
import logging
import re
import time
from typing import Any

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


_wecom_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def _wecom_token(api: str, corp: str, secret: str) -> str | None:
    cached = _wecom_tokens.get((corp, secret))
    if cached and cached[1] > time.monotonic():
        return cached[0]
    try:
        response = httpx.get(f"{api}/cgi-bin/gettoken", params={"corpid": corp, "corpsecret": secret}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        logger.warning("企业微信应用 获取令牌失败:%s", type(exc).__name__)
        return None
    if not _answer("企业微信应用(获取令牌)", response, ("errcode",)):
        return None
    data = response.json()
    _wecom_tokens[(corp, secret)] = (data["access_token"], time.monotonic() + int(data.get("expires_in", 7200)) - 300)
    return data["access_token"]


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
