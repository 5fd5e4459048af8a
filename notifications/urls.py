"""Channel URLs: which kind each is, its limits, and how it is shown (secrets masked).

rectify's own schemes (plugins.py) check the robot's answer, which apprise's built-in
DingTalk / WeCom / Feishu plugins do not:

  rdingtalk://ACCESS_TOKEN[/SIGNING_SECRET]      钉钉群机器人
  rwecombot://KEY                                企业微信群机器人
  rwecomapp://CORPID/AGENTID/SECRET[?to=a|b]     企业微信应用消息
  rfeishu://TOKEN[/SIGNING_SECRET]               飞书群机器人
  rdingwork://APPKEY/APPSECRET/AGENTID?to=u1|u2  钉钉工作通知 (reports reads)
  rfeishuapp://APPID/APPSECRET?to=u1|u2          飞书应用消息 (reports reads)
  raliyunsms://KEYID/KEYSECRET/TEMPLATE?signname=签名[&to=手机号]           阿里云短信
  rtencentsms://SECRETID/SECRETKEY/SDKAPPID/TEMPLATE?signname=签名[&to=…]   腾讯云短信

An SMS channel without `to` sends to the recipient's own phone numbers (a person's, or those
of a unit's people). Any channel takes `?only=red|listed` (message kinds) to carry only those.

Any other apprise URL works too, e.g. mailto:// (e-mail) and json:// (a JSON webhook).
Each of rectify's schemes takes `?api=http://host:port` to reach the service through a
gateway (and, in the tests, a local stand-in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from rectify.models.errors import InvalidInput


@dataclass(frozen=True)
class ChannelKind:
    name: str
    label: str
    limit_bytes: int | None  # a message longer than this is cut
    per_minute: int | None  # the service's rate limit per webhook


KINDS = {
    "rdingtalk": ChannelKind("dingtalk", "钉钉机器人", 18_000, 20),
    "rwecombot": ChannelKind("wecombot", "企业微信群机器人", 2_048, 20),
    "rwecomapp": ChannelKind("wecomapp", "企业微信应用", 2_048, None),
    "rfeishu": ChannelKind("feishu", "飞书机器人", 18_000, 100),
    "rdingwork": ChannelKind("dingwork", "钉钉工作通知", 5_000, None),
    "rfeishuapp": ChannelKind("feishuapp", "飞书应用消息", 18_000, None),
    "raliyunsms": ChannelKind("sms", "阿里云短信", None, None),
    "rtencentsms": ChannelKind("sms", "腾讯云短信", None, None),
    "mailto": ChannelKind("email", "电子邮件", None, None),
    "mailtos": ChannelKind("email", "电子邮件", None, None),
    "json": ChannelKind("webhook", "JSON 回调", None, None),
    "jsons": ChannelKind("webhook", "JSON 回调", None, None),
}
OTHER = ChannelKind("apprise", "其他(apprise)", None, None)
_REPLACED = {
    "dingtalk": "rdingtalk://ACCESS_TOKEN/SIGNING_SECRET",
    "wecombot": "rwecombot://KEY",
    "feishu": "rfeishu://TOKEN/SIGNING_SECRET",
    "lark": "rfeishu://TOKEN/SIGNING_SECRET",
    "wecom": "rwecombot://KEY(wecom:// 在 apprise 中是第三方转发服务,不是企业微信)",
}
_SECRET_KEYS = {"secret", "key", "token", "pass", "password", "sign", "access_token", "corpsecret"}


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def kind_of(url: str) -> ChannelKind:
    return KINDS.get(scheme(url), OTHER)


def check(url: str) -> ChannelKind:
    """The URL's kind, or InvalidInput saying what is wrong with it (the URL is not repeated)."""
    import apprise

    from rectify.notifications import plugins  # noqa: F401  - registers rectify's schemes with apprise

    name = scheme(url)
    if not name:
        raise InvalidInput("通知地址格式应为 协议://…,例如 rdingtalk://令牌/加签密钥 或 mailto://…")
    if name in _REPLACED:
        raise InvalidInput(
            f"请使用 {_REPLACED[name]}:apprise 自带的 {name}:// 不检查机器人返回的错误码,消息被拒也会报成功"
        )
    if apprise.Apprise.instantiate(url) is None:
        raise InvalidInput(f"无法识别的通知地址(协议 {name}://),请检查格式")
    return kind_of(url)


def only(url: str) -> set[str] | None:
    """The message kinds a channel is kept for (`?only=red|listed`), or None: every kind."""
    wanted = dict(parse_qsl(urlsplit(url).query)).get("only")
    return {k for k in re.split(r"[|,\s]+", wanted) if k} if wanted else None


def carries(url: str, kinds: set[str]) -> bool:
    kept = only(url)
    return kept is None or bool(kept & kinds)


def with_phones(url: str, phones: list[str]) -> str:
    """An SMS channel without `to` sends to the recipient's own numbers."""
    if kind_of(url).name != "sms" or "to" in dict(parse_qsl(urlsplit(url).query)) or not phones:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"to": "|".join(phones)})


def _mask_phones(text: str) -> str:
    from rectify.models.org import mask_phone

    return "|".join(mask_phone(p) for p in re.split(r"[|,\s]+", text) if p)


def _mask(text: str) -> str:
    """A long token keeps its first 4 characters (to tell two apart); anything shorter, none."""
    return text[:4] + "****" if len(text) >= 16 else "****"


def mask(url: str) -> str:
    """The URL with every secret cut to its first characters: safe to print and to log."""
    parts = urlsplit(url)
    name = scheme(url)
    query = urlencode([(k, _mask(v) if k.lower() in _SECRET_KEYS else _mask_phones(v) if k == "to" and
                        kind_of(url).name == "sms" else v) for k, v in parse_qsl(parts.query)], safe="|*")
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:****@{host}" if ":" in credentials else f"{user}@{host}"
    path = parts.path
    if name in KINDS and name.startswith("r"):
        netloc = _mask(netloc)
        path = re.sub(r"[^/]+", lambda m: _mask(m.group(0)), path)
    return f"{name}://{netloc}{path}" + (f"?{query}" if query else "")
