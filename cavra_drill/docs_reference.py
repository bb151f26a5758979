"""The reference pages generated from the code: `docs/cli.md` and `docs/schemas/*.schema.json`.

    python -m cavra_drill.docs_reference --write    regenerate them in ./docs
    python -m cavra_drill.docs_reference --check    exit 1 and name the files that differ

The CLI reference walks the command tree typer builds (`typer.main.get_command`): every
command and subcommand with its usage, help, arguments and options (help and default). The
schemas are exactly what `cavra-drill schema KIND` prints. `tests/docs` regenerates both and
fails when a committed file differs, so the reference cannot drift from the code.

A developer tool: nothing in the CLI imports this module (it pulls in pydantic and every
command module, which `readiness` must not pay for at start-up).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import typer

PROGRAM = "cavra-drill"
CLI_PAGE = "cli.md"
SCHEMA_DIR = "schemas"
FIX_COMMAND = "python -m cavra_drill.docs_reference --write"
# Click's type names, as a reader would call the value.
_TYPE_WORDS = {"str": "TEXT", "text": "TEXT", "float": "FLOAT", "integer": "INTEGER", "int": "INTEGER"}


@dataclass(frozen=True)
class ParamDoc:
    """One argument or option of a command, as the reference shows it."""

    name: str
    """`--workdir` for an option (its first long name), `FILES` for an argument."""
    aliases: tuple[str, ...]
    is_option: bool
    is_flag: bool
    value: str
    """What the value looks like: `TEXT`, `FLOAT`, `a|b|c` for a choice; empty for a flag."""
    required: bool
    repeatable: bool
    default: str
    help: str
    envvar: str


@dataclass(frozen=True)
class CommandDoc:
    """One command of the tree: its full path (`cavra-drill history verify`) and what it takes."""

    path: tuple[str, ...]
    help: str
    params: tuple[ParamDoc, ...]
    subcommands: tuple[CommandDoc, ...] = field(default=())
    subcommand_optional: bool = False
    """A group that also runs on its own (`cavra-drill history` as well as `history verify`)."""

    @property
    def title(self) -> str:
        return " ".join(self.path)

    @property
    def option_names(self) -> frozenset[str]:
        """Every spelling of every option, `--help` included (click adds it to each command)."""
        names = {"--help"}
        for param in self.params:
            if param.is_option:
                names.update((param.name, *param.aliases))
        return frozenset(names)

    def subcommand(self, name: str) -> CommandDoc | None:
        return next((sub for sub in self.subcommands if sub.path[-1] == name), None)

    def walk(self) -> Iterator[CommandDoc]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()

    @property
    def usage(self) -> str:
        pieces = [self.title]
        if any(p.is_option for p in self.params):
            pieces.append("[OPTIONS]")
        for param in self.params:
            if param.is_option:
                continue
            shown = param.name + ("..." if param.repeatable else "")
            pieces.append(shown if param.required else f"[{shown}]")
        if self.subcommands:
            pieces.append("[COMMAND [ARGS]...]" if self.subcommand_optional else "COMMAND [ARGS]...")
        return " ".join(pieces)


def command_tree(app: typer.Typer | None = None) -> CommandDoc:
    """The CLI as typer builds it, read from the click command objects (public attributes only).

    typer may carry its own copy of click, so the objects are read by attribute, never by type.
    """
    if app is None:
        from cavra_drill.cli.main import app as main_app

        app = main_app
    root = typer.main.get_command(app)
    return _command_doc(root, (PROGRAM,), parent_context=None)


def _command_doc(command: Any, path: tuple[str, ...], parent_context: Any) -> CommandDoc:
    context = command.context_class(command, info_name=path[-1], parent=parent_context)
    params = tuple(_param_doc(param) for param in command.params if not getattr(param, "hidden", False))
    subcommands: list[CommandDoc] = []
    if hasattr(command, "list_commands"):
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            subcommands.append(_command_doc(sub, (*path, name), context))
    return CommandDoc(
        path=path,
        help=_clean(command.help or ""),
        params=params,
        subcommands=tuple(subcommands),
        subcommand_optional=bool(subcommands) and bool(getattr(command, "invoke_without_command", False)),
    )


def _param_doc(param: Any) -> ParamDoc:
    is_option = getattr(param, "param_type_name", "") == "option"
    is_flag = bool(getattr(param, "is_flag", False))
    names = [*param.opts, *param.secondary_opts]
    if is_option:
        long_names = [n for n in names if n.startswith("--")]
        name = long_names[0] if long_names else names[0]
        aliases = tuple(n for n in names if n != name)
    else:
        name = (param.metavar or param.name or "").upper()
        aliases = ()
    envvar = param.envvar if isinstance(param.envvar, str) else ", ".join(param.envvar or ())
    return ParamDoc(
        name=name,
        aliases=aliases,
        is_option=is_option,
        is_flag=is_flag,
        value="" if is_flag else _value_words(param),
        required=bool(param.required),
        repeatable=bool(param.multiple) or param.nargs == -1,
        default=_default_words(param.default, is_flag=is_flag, required=bool(param.required)),
        help=_clean(getattr(param, "help", None) or ""),
        envvar=envvar,
    )


def _value_words(param: Any) -> str:
    choices = getattr(param.type, "choices", None)
    if choices:
        return "|".join(str(c.value if isinstance(c, Enum) else c) for c in choices)
    if getattr(param, "metavar", None) and getattr(param, "param_type_name", "") == "option":
        return str(param.metavar)
    type_name = str(getattr(param.type, "name", "") or "text").lower()
    if type_name.endswith(" range"):
        return _TYPE_WORDS.get(type_name.removesuffix(" range"), "NUMBER") + _range_words(param.type)
    return _TYPE_WORDS.get(type_name, type_name.upper())


def _range_words(kind: Any) -> str:
    """` ≥ 1`, ` < 5`, ` 1 to 5` for click's IntRange and FloatRange."""
    low, high = getattr(kind, "min", None), getattr(kind, "max", None)
    low_op = ">" if getattr(kind, "min_open", False) else "≥"
    high_op = "<" if getattr(kind, "max_open", False) else "≤"
    if low is not None and high is not None:
        return f" {low_op} {low}, {high_op} {high}"
    if low is not None:
        return f" {low_op} {low}"
    if high is not None:
        return f" {high_op} {high}"
    return ""


def _default_words(default: object, *, is_flag: bool, required: bool) -> str:
    if required:
        return "required"
    if is_flag:
        return "on" if default is True else "off"
    if default is None or (isinstance(default, list | tuple) and not default):
        return "*unset*"
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, float):
        return f"{default:g}"
    if isinstance(default, list | tuple):
        return ", ".join(str(item) for item in default)
    return str(default)


def _clean(text: str) -> str:
    """Help text as written in the code: paragraphs kept, lines inside a paragraph joined."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(command: CommandDoc) -> str:
    return "-".join(command.path)


def _first_sentence(text: str) -> str:
    first = text.split("\n\n", maxsplit=1)[0]
    end = first.find(". ")
    return first if end < 0 else first[: end + 1]


def render_cli_reference(tree: CommandDoc | None = None) -> str:
    """`docs/cli.md`: every command of the tree, parents before their subcommands."""
    root = tree or command_tree()
    commands = list(root.walk())[1:]
    blocks = [
        "# CLI reference",
        f"<!-- Generated from the code by `{FIX_COMMAND}`; do not edit by hand. -->",
        root.help,
        "Every command takes `--help`, and every option can also be given as `--option=VALUE`. Settings "
        "that CAVRA reads from its environment variables default to them (named in brackets); an "
        "option on the command line wins. A default of *unset* means the option's help says what "
        "happens without it. Exit codes: [exit-codes.md](exit-codes.md).",
        "\n".join(
            [
                "| command | what it does |",
                "|---|---|",
                *(f"| [`{c.title}`](#{_anchor(c)}) | {_cell(_first_sentence(c.help))} |" for c in commands),
            ]
        ),
    ]
    for command in commands:
        blocks.extend(_command_blocks(command))
    return "\n\n".join(blocks) + "\n"


def _command_blocks(command: CommandDoc) -> list[str]:
    blocks = [f"## `{command.title}`", f"```text\n{command.usage}\n```"]
    if command.help:
        blocks.append(command.help)
    arguments = [p for p in command.params if not p.is_option]
    options = [p for p in command.params if p.is_option]
    if arguments:
        rows = ["| argument | value | description |", "|---|---|---|"]
        for arg in arguments:
            value = arg.value + (" (one or more)" if arg.repeatable else "")
            need = "" if arg.required else " Optional."
            rows.append(f"| `{arg.name}` | `{_cell(value)}` | {_cell(arg.help)}{need} |")
        blocks.append("\n".join(rows))
    if options:
        rows = ["| option | value | default | description |", "|---|---|---|---|"]
        for opt in options:
            spelled = ", ".join(f"`{n}`" for n in (opt.name, *opt.aliases))
            value = "flag" if opt.is_flag else f"`{_cell(opt.value)}`"
            notes = opt.help
            if opt.repeatable and "repeat" not in notes.lower():
                notes += " May be repeated."
            if opt.envvar:
                notes += f" Environment: `{opt.envvar}`."
            rows.append(f"| {spelled} | {value} | {_cell(opt.default)} | {_cell(notes.strip())} |")
        blocks.append("\n".join(rows))
    if command.subcommands:
        subs = ", ".join(f"[`{s.path[-1]}`](#{_anchor(s)})" for s in command.subcommands)
        blocks.append(f"Subcommands: {subs}.")
    return blocks


def render_schemas() -> dict[str, str]:
    """`schemas/<kind>.schema.json` for every kind `cavra-drill schema` knows, as it prints them."""
    from cavra_drill.contract.models import SCHEMA_MODELS
    from cavra_drill.formats.json_text import render_json

    return {
        f"{SCHEMA_DIR}/{kind}.schema.json": render_json(model.model_json_schema())
        for kind, model in SCHEMA_MODELS.items()
    }


def generated_files() -> dict[str, str]:
    """Every generated page, by its path under `docs/`."""
    return {CLI_PAGE: render_cli_reference(), **render_schemas()}


def stale_files(docs: Path, expected: Mapping[str, str] | None = None) -> list[str]:
    """The generated files under `docs` that are missing or differ from what the code gives,
    and any `schemas/*.schema.json` the code no longer generates."""
    wanted = dict(generated_files() if expected is None else expected)
    stale = []
    for name, text in sorted(wanted.items()):
        target = docs / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(name)
    schema_dir = docs / SCHEMA_DIR
    if schema_dir.is_dir():
        for extra in sorted(schema_dir.glob("*.schema.json")):
            name = f"{SCHEMA_DIR}/{extra.name}"
            if name not in wanted:
                stale.append(name)
    return stale


def write_files(docs: Path) -> list[str]:
    """Regenerate every file under `docs`; remove schemas the code no longer has. Returns what changed."""
    wanted = generated_files()
    changed = stale_files(docs, wanted)
    for name in changed:
        target = docs / name
        if name in wanted:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(wanted[name], encoding="utf-8")
        else:
            target.unlink()
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cavra_drill.docs_reference", description="Generate docs/cli.md and docs/schemas/."
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the files")
    action.add_argument("--check", action="store_true", help="exit 1 when a file differs")
    parser.add_argument("--docs", default="docs", help="the docs directory (default: ./docs)")
    args = parser.parse_args(argv)
    docs = Path(args.docs)
    if args.write:
        for name in write_files(docs):
            sys.stderr.write(f"updated {docs / name}\n")
        return 0
    stale = stale_files(docs)
    for name in stale:
        sys.stderr.write(f"out of date: {docs / name}\n")
    if stale:
        sys.stderr.write(f"run: {FIX_COMMAND}\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
