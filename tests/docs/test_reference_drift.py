"""The generated reference (docs/cli.md, docs/schemas/) is what the code gives today.

Each committed file is compared with a fresh rendering; a difference fails with the command
that regenerates them. The generator itself is checked on a small typer app of its own, so the
tree walk (groups, subcommands, arguments, choices, flags, defaults) is covered whatever the
real CLI holds at the moment.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pytest
import typer
from clirun import CliResult, assert_no_traceback

from cavra_drill import docs_reference as ref

DOCS = Path(__file__).resolve().parents[2] / "docs"
GENERATED = ref.generated_files()
Cli = Callable[..., CliResult]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_committed_reference_matches_the_code(name: str) -> None:
    committed = DOCS / name
    assert committed.is_file(), f"docs/{name} is missing; run: {ref.FIX_COMMAND}"
    assert committed.read_text(encoding="utf-8") == GENERATED[name], (
        f"docs/{name} is out of date with the code; run: {ref.FIX_COMMAND}"
    )


def test_no_schema_file_the_code_no_longer_generates() -> None:
    retired = [name for name in ref.stale_files(DOCS, GENERATED) if name not in GENERATED]
    assert retired == [], f"docs/ holds schemas the code no longer generates; run: {ref.FIX_COMMAND}"


@pytest.mark.parametrize("kind", ["plan", "rehearsal", "drill", "history", "schedule"])
def test_schema_command_prints_the_committed_schema(cli: Cli, kind: str) -> None:
    result = cli("schema", kind)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (DOCS / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")


def test_every_command_of_the_real_cli_has_a_section() -> None:
    page = GENERATED[ref.CLI_PAGE]
    tree = ref.command_tree()
    for command in list(tree.walk())[1:]:
        assert f"\n## `{command.title}`\n" in page
        for param in command.params:
            assert f"`{param.name}`" in page


class Colour(StrEnum):
    red = "red"
    blue = "blue"


def toy_app() -> typer.Typer:
    app = typer.Typer(name="toy", help="A toy.", add_completion=False, rich_markup_mode=None)
    books = typer.Typer(help="Look after the books.", rich_markup_mode=None)

    @app.command()
    def paint(
        files: Annotated[list[str], typer.Argument(help="What to paint.")],
        colour: Annotated[Colour, typer.Option("--colour", "-c", help="Which colour.")] = Colour.red,
        coats: Annotated[float, typer.Option("--coats", help="How many | coats.")] = 2.0,
        layers: Annotated[int, typer.Option("--layers", min=1, help="Layers.")] = 1,
        shine: Annotated[float, typer.Option("--shine", min=0, max=1, help="Shine.")] = 0.5,
        out: Annotated[str, typer.Option("--out", help="Where.")] = ...,
        tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag.")] = None,
        dry: Annotated[bool, typer.Option("--dry", help="Pretend.")] = False,
        secret: Annotated[str | None, typer.Option("--secret", hidden=True)] = None,
        token: Annotated[str | None, typer.Option("--token", envvar="TOY_TOKEN", help="A token.")] = None,
    ) -> None:
        """Paint things.

        Second paragraph, which
        spans two lines.
        """

    @books.command()
    def verify(strict: Annotated[bool, typer.Option("--strict", help="Be strict.")] = False) -> None:
        """Check the books."""

    @books.callback(invoke_without_command=True)
    def books_main(limit: Annotated[int, typer.Option("--limit", help="How many.")] = 10) -> None:
        """Show the books."""

    app.add_typer(books, name="books")
    return app


def test_generator_walks_groups_subcommands_and_parameters() -> None:
    tree = ref.command_tree(toy_app())
    assert [c.title for c in tree.walk()] == [
        "cavra-drill",
        "cavra-drill paint",
        "cavra-drill books",
        "cavra-drill books verify",
    ]
    books = tree.subcommand("books")
    assert books is not None and books.subcommand("verify") is not None
    assert books.usage == "cavra-drill books [OPTIONS] [COMMAND [ARGS]...]"
    assert tree.usage == "cavra-drill COMMAND [ARGS]..."
    assert "--limit" in books.option_names and "--strict" not in books.option_names
    paint = tree.subcommand("paint")
    assert paint is not None
    assert paint.usage == "cavra-drill paint [OPTIONS] FILES..."
    assert paint.help == "Paint things.\n\nSecond paragraph, which spans two lines."
    assert {
        "--colour",
        "-c",
        "--coats",
        "--layers",
        "--shine",
        "--out",
        "--tag",
        "--dry",
        "--token",
        "--help",
    } == paint.option_names
    params = {p.name: p for p in paint.params}
    assert "--secret" not in params
    assert params["--colour"].value == "red|blue" and params["--colour"].default == "red"
    assert params["--colour"].aliases == ("-c",)
    assert params["--coats"].value == "FLOAT" and params["--coats"].default == "2"
    assert params["--out"].default == "required"
    assert params["--layers"].value == "INTEGER ≥ 1" and params["--layers"].default == "1"
    assert params["--shine"].value == "FLOAT ≥ 0, ≤ 1"
    assert params["--tag"].repeatable and params["--tag"].default == "*unset*"
    assert params["--dry"].is_flag and params["--dry"].default == "off"
    assert params["--token"].envvar == "TOY_TOKEN"
    assert params["FILES"].repeatable and params["FILES"].required


def test_generator_renders_sections_anchors_and_escaped_cells() -> None:
    page = ref.render_cli_reference(ref.command_tree(toy_app()))
    assert "| [`cavra-drill books verify`](#cavra-drill-books-verify) | Check the books. |" in page
    assert "## `cavra-drill books verify`\n\n```text\ncavra-drill books verify [OPTIONS]\n```" in page
    assert "| `--colour`, `-c` | `red\\|blue` | red | Which colour. |" in page
    assert "| `--coats` | `FLOAT` | 2 | How many \\| coats. |" in page
    assert "| `--tag` | `TEXT` | *unset* | A tag. May be repeated. |" in page
    assert "| `--token` | `TEXT` | *unset* | A token. Environment: `TOY_TOKEN`. |" in page
    assert "| `FILES` | `TEXT (one or more)` | What to paint. |" in page
    assert "Subcommands: [`verify`](#cavra-drill-books-verify)." in page
    assert "\n\n\n" not in page and page.endswith("|\n")


def test_check_and_write_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    assert ref.main(["--check", "--docs", str(docs)]) == 1
    assert ref.FIX_COMMAND in capsys.readouterr().err
    (docs / "schemas").mkdir(parents=True)
    (docs / "schemas" / "retired.schema.json").write_text("{}\n")
    assert ref.main(["--write", "--docs", str(docs)]) == 0
    assert not (docs / "schemas" / "retired.schema.json").exists()
    assert ref.main(["--check", "--docs", str(docs)]) == 0
    (docs / "cli.md").write_text("edited by hand\n")
    assert ref.main(["--check", "--docs", str(docs)]) == 1
    assert "out of date: " + str(docs / "cli.md") in capsys.readouterr().err
