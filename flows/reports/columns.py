"""How figures are labelled and shown, the same in the CLI, the ledger and the bulletin."""

from __future__ import annotations

# 累计交办 (ever handed to a unit) is a figure; 已交办 is the state 待签收 problems are in: the
# two never share a name. 逾期 is the unit's; 核验超时 the verifier's (docs/reports.md).
COLUMNS = [
    ("key", "名称"), ("rank", "名次"), ("total", "问题数"), ("resolved_on_site", "现场解决"), ("assigned", "累计交办"),
    ("submitted", "待核验"), ("closed", "已销号"), ("closure_rate", "销号率"),
    ("closure_rate_excl_on_site", "销号率(不含现场)"), ("rectified_rate", "整改率"), ("on_time_rate", "按期销号率"),
    ("overdue", "逾期"), ("verification_late", "核验超时"), ("paused", "暂缓中"), ("paused_days", "暂缓工作日"),
    ("sign_on_time_rate", "按期签收率"),
    ("extension_rate", "延期率"), ("return_rate", "退回率"),
    ("rebound_rate", "反弹率"), ("callbacks", "回访"), ("satisfaction_rate", "满意率"),
    ("stages_verified", "已核验阶段"), ("stage_on_time_rate", "阶段按期率"),
    ("median_days_to_close", "销号用时中位数(工作日)"),
]
RATES = {"closure_rate", "closure_rate_excl_on_site", "rectified_rate", "on_time_rate", "sign_on_time_rate",
         "extension_rate", "return_rate", "rebound_rate", "satisfaction_rate", "stage_on_time_rate"}
TARGET = 0.9  # a rate at or above this shows green


def shown(key: str, value) -> str:
    """How a figure reads: rates as percentages, a missing denominator as —."""
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
