"""The `rectify` command line: a root that only registers the command groups.

Each group lives in its own module and is imported when its command runs, never for the root's
`--help`: a command pays for the libraries it uses (Prefect, Alembic, uvicorn, openpyxl) and no
other. The table below is the root's table of contents; each command's own `--help` shows its
full description, from its docstring.
"""

from __future__ import annotations

import gc
import importlib
import os
from typing import NamedTuple

from rectify.flows.cli import zh

zh.install()

import typer  # noqa: E402  (after the Chinese catalogue is installed)
from typer import _click as click  # noqa: E402  (the Click that Typer carries)
from typer.core import TyperCommand, TyperGroup  # noqa: E402


class Entry(NamedTuple):
    module: str
    attr: str  # a group's Typer app, or "app" for a command merged into the root
    summary: str
    panel: str


_GROUPS = "管理与基础数据"
_WORK = "问题与整改"
_FIGURES = "统计、台账与公文"
_RUN = "运行与部署"

COMMANDS: dict[str, Entry] = {
    "issue": Entry("issue", "issue_app", "问题:登记、交办、签收、整改、核验销号、延期、撤销、督办", _WORK),
    "import": Entry("intake", "app", "导入督导发现问题清单(全部正确才写入)", _WORK),
    "plan": Entry("intake", "app", "为一次督导抽样并写出现场检查表", _WORK),
    "template": Entry("intake", "app", "写出空白的发现问题清单模板", _WORK),
    "coverage": Entry("intake", "app", "督导全覆盖:哪些拟退出村还没有被抽到", _WORK),
    "remind": Entry("notify", "app", "运行一次提醒与督办(签收、到期、逾期,黄牌/红牌/挂牌督办)", _WORK),
    "deliveries": Entry("notify", "app", "发送台账:每条消息的收件人、状态和各渠道结果", _WORK),
    "suspicious": Entry("verify", "app", "纸面销号预警:佐证重复、措施雷同、销号过快", _WORK),
    "recheck": Entry("verify", "recheck_app", "回头看:抽取已销号问题复查,反弹的重开", _WORK),
    "referrals": Entry("verify", "app", "问责线索:挂牌督办或两次以上反弹的问题", _WORK),
    "dossier": Entry("verify", "app", "导出一个问题的全部案卷", _WORK),
    "report": Entry("report", "app", "整改统计:销号率、整改率、按期销号率、逾期及排名", _FIGURES),
    "estimates": Entry("report", "app", "抽样推算:全县各类问题的村、户比例及 95% 区间", _FIGURES),
    "burden": Entry("report", "app", "基层负担:各村、户被督导的次数,各单位收到的佐证要求和提醒", _FIGURES),
    "ledger": Entry("report", "app", "整改台账工作簿(每县一张表)", _FIGURES),
    "bulletin": Entry("report", "app", "运行一次周通报并发送给领导", _FIGURES),
    "feedback": Entry("report", "app", "督导反馈意见", _FIGURES),
    "doc": Entry("doc", "doc_app", "公文(.docx):整改通知书、督办单、对账销号单、整改情况报告、周通报", _FIGURES),
    "seed": Entry("db", "app", "载入基础数据(县、单位、检查项目、政策、节假日)", _GROUPS),
    "db": Entry("db", "db_app", "数据库结构(迁移、重新统计)", _GROUPS),
    "user": Entry("users", "user_app", "用户、登录密码与接口令牌", _GROUPS),
    "unit": Entry("reference", "unit_app", "责任单位", _GROUPS),
    "place": Entry("reference", "place_app", "县、乡、村、户", _GROUPS),
    "catalogue": Entry("reference", "catalogue_app", "检查项目目录", _GROUPS),
    "calendar": Entry("calendar", "calendar_app", "工作日历(法定节假日与调休)", _GROUPS),
    "channel": Entry("notify", "channel_app", "通知渠道(钉钉、企业微信、飞书、短信、邮件、回调)", _GROUPS),
    "web": Entry("web", "app", "网页:领导看板、问题清单、各角色工作台和接口", _RUN),
    "serve": Entry("serve", "app", "一台机器运行全部:Prefect 服务器、计划任务、网页", _RUN),
    "schedules": Entry("serve", "app", "只运行计划任务(提醒、周通报)", _RUN),
    "deploy": Entry("serve", "app", "多机部署:在 Prefect 服务器上登记计划任务", _RUN),
    "demo": Entry("demo", "app", "演示:2016 年甘孜州督导的两个月,从登记到销号", _RUN),
}


def load(name: str) -> click.Command:
    """The real command behind a name of the root (imports its module)."""
    entry = COMMANDS[name]
    module = importlib.import_module(f"rectify.flows.cli.{entry.module}")
    group = getattr(module, entry.attr)
    group._add_completion = False
    found = typer.main.get_group(group)
    command = found.commands[name] if entry.attr == "app" else found
    command.name = name
    return command


class LazyRoot(TyperGroup):
    """Lists the table of contents without importing anything; loads a command to run it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        # Enough for the root's help page: a name, a summary and a panel.
        return TyperCommand(cmd_name, short_help=entry.summary, help=entry.summary, rich_help_panel=entry.panel)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] in COMMANDS and args[0] not in self.commands:
            self.commands[args[0]] = load(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyRoot,
    help="rectify:督查发现问题整改跟踪(交办、签收、整改、核验销号、提醒与督办)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _start() -> None:
    # The modules loaded so far live as long as the command: keep the garbage collector from
    # walking them again and again while a report or an import makes many small objects.
    gc.freeze()


def main() -> None:
    # A person at a terminal reads the command's own summary; Prefect's INFO lines go to
    # $RECTIFY_HOME/logs/prefect.log (support.prefect_logs_to_file), its warnings still show.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    app()
