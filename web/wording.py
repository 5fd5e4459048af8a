"""How the web words a domain error: the message, and where on the page to put things right."""

from __future__ import annotations

from rectify.models.errors import DomainError

# What a domain error's `field` is on the page's forms.
WHERE = {
    "evidence": "请在「佐证材料」处选择文件上传",
    "unit": "请在「责任单位」处选择",
    "cosign": "请在「会签组长」处填写",
    "township": "请同时选择乡(镇)",
    "village": "请同时选择村",
    "household": "请选择户",
    "deadline": "请在「整改时限」处填写",
    "reason": "请在「理由」处填写",
    "cause": "请在「原因分析」处填写",
    "spread": "请在「举一反三」处填写",
    "rules": "请在「建章立制」处填写",
    "stages": "请在「阶段」处修改",
}


def message_of(exc: DomainError) -> str:
    where = WHERE.get(exc.field or "")
    return f"{exc}({where})" if where else str(exc)


def wait_text(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{(seconds + 59) // 60} 分钟"
