"""Typer's (and the Click it carries) own words in Chinese, and help pages with whole descriptions.

Typer words some messages through `gettext` (domain "messages"): this installs a catalogue for
that domain in the CLI's process. Its help panel titles are module constants, set here. The
Click it vendors words its errors in plain English strings: those are rewritten, by pattern,
where Typer prints an error. Flags show no type tag, and descriptions fold rather than end in "…".
"""

from __future__ import annotations

import gettext
import importlib.abc
import importlib.util
import re
import sys

# The words Typer looks up through gettext (typer/core.py, typer/rich_utils.py).
CATALOGUE: dict[str, str] = {
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Error": "错误",
    "Aborted!": "已中止。",
    "Aborted.": "已中止。",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "default: {default}": "默认:{default}",
    "required": "必填",
    "env var: {var}": "环境变量:{var}",
    "[default: {}]": "[默认:{}]",
    "[env var: {}]": "[环境变量:{}]",
    "[required]": "[必填]",
    "(deprecated) ": "(已弃用) ",
    "(dynamic)": "(动态)",
}

# Typer reads these once, at its import.
_TYPER_CONSTANTS = {
    "DEFAULT_STRING": "[default: {}]", "ENVVAR_STRING": "[env var: {}]", "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments", "OPTIONS_PANEL_TITLE": "Options", "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error", "ABORTED_TEXT": "Aborted.", "DEPRECATED_STRING": "(deprecated) ",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}

# The vendored Click's error messages, as it words them.
_ERRORS: list[tuple[re.Pattern[str], str]] = [(re.compile(a), b) for a, b in [
    (r"^Missing option (.+)\.$", r"缺少选项 \1。"),
    (r"^Missing argument (.+)\.$", r"缺少参数 \1。"),
    (r"^Missing parameter (.+)\.$", r"缺少参数 \1。"),
    (r"^Missing (\w+) (.+)\. (.+)$", r"缺少 \2。\3"),
    (r"^No such option: (\S+)", r"没有选项 \1"),
    (r"^No such command '(.+)'\.", r"没有命令 '\1'。"),
    (r"Did you mean (.+)\?$", r"是不是 \1?"),
    (r"\(Possible options: (.+)\)$", r"(可能是:\1)"),
    (r"^Invalid value for (.+?): ", r"\1 的值无效:"),
    (r"^Invalid value: ", "值无效:"),
    (r"Value (.+) is not a valid (\w+)\.", r"\1 不是有效的 \2。"),
    (r"(.+) is not one of (.+)\.$", r"\1 不在可选值 \2 之中。"),
    (r"^Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", r"多余的参数:\1"),
    (r"^Option (.+) requires an argument\.$", r"选项 \1 需要一个值。"),
    (r"^Option (.+) requires (\d+) arguments\.$", r"选项 \1 需要 \2 个值。"),
    (r"^Option (.+) does not take a value\.$", r"选项 \1 不接受值。"),
    (r"^(File|Path|Directory) (.+) does not exist\.$", r"路径 \2 不存在。"),
    (r"^(File|Path|Directory) (.+) is a directory\.$", r"路径 \2 是文件夹。"),
    (r"^(File|Path|Directory) (.+) is a file\.$", r"路径 \2 是文件。"),
    (r"^Could not open file (.+?): ", r"无法打开文件 \1:"),
]]


def translate_error(message: str) -> str:
    for pattern, chinese in _ERRORS:
        message = pattern.sub(chinese, message)
    return message


_TYPES = {"<str>": "<文本>", "<int>": "<整数>", "<float>": "<数值>", "<path>": "<路径>", "<datetime>": "<时间>",
          "<list[path]>": "<路径,可多个>", "<list[str]>": "<文本,可多个>"}

_installed = False


def _translate(original):
    def dgettext(domain: str, message: str) -> str:
        if domain == "messages" and message in CATALOGUE:
            return CATALOGUE[message]
        return original(domain, message)

    return dgettext


def install() -> None:
    """Install the catalogue and the help-page mends (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    gettext.dgettext = _translate(gettext.dgettext)
    _mend_click()
    # Typer imports its help and error printer only to print help or an error: mend it then,
    # so a command that prints neither does not pay for importing it.
    if "typer.rich_utils" in sys.modules:
        _mend_rich_utils(sys.modules["typer.rich_utils"])
    else:
        sys.meta_path.insert(0, _AfterImport("typer.rich_utils", _mend_rich_utils))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs `then(module)` right after one module has been imported."""

    def __init__(self, name: str, then) -> None:
        self.name, self.then = name, then

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        load, then = spec.loader.exec_module, self.then

        def exec_module(module) -> None:
            load(module)
            then(module)

        spec.loader.exec_module = exec_module
        return spec


def _mend_click() -> None:
    from typer import core
    from typer._click import decorators, formatting

    write_usage = formatting.HelpFormatter.write_usage

    def write_usage_zh(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, "用法: " if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = write_usage_zh  # type: ignore[method-assign]  # the mend itself

    help_option = decorators.help_option

    def help_option_zh(param_decls: list[str]):
        decorate = help_option(param_decls)

        def apply(command):
            command = decorate(command)
            command.params[-1].help = "显示本帮助并退出。"
            return command

        return apply

    decorators.help_option = help_option_zh

    # A plain flag takes no value: show no type tag after it; other tags in Chinese.
    show_option_type = core.TyperOption.display_type_rich
    show_argument_type = core.TyperArgument.display_type_rich

    def option_type(self, ctx):
        if self.is_flag:
            return None
        shown = show_option_type(self, ctx)
        return _TYPES.get(shown, shown) if shown else shown

    def argument_type(self, ctx):
        shown = show_argument_type(self, ctx)
        return _TYPES.get(shown, shown) if shown else shown

    core.TyperOption.display_type_rich = option_type  # type: ignore[method-assign]  # the mend itself
    core.TyperArgument.display_type_rich = argument_type  # type: ignore[method-assign]


def _mend_rich_utils(rich_utils) -> None:
    from rich.text import Text

    for name, english in _TYPER_CONSTANTS.items():
        setattr(rich_utils, name, CATALOGUE[english])

    print_error = rich_utils.rich_format_error

    def rich_format_error(self) -> None:
        english = self.format_message
        self.format_message = lambda: translate_error(english())
        print_error(self)

    rich_utils.rich_format_error = rich_format_error

    # Chinese has no spaces to wrap at: fold long descriptions instead of cutting them with "…".
    make_text = rich_utils._make_rich_text

    def make_rich_text(*args, **kwargs):
        text = make_text(*args, **kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text

    rich_utils._make_rich_text = make_rich_text
