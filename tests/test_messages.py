"""The texts people read: no doubled full stops, and every `ml-connector …` advice names a
command and flags the CLI parser really has.

Scanned: every string literal and f-string under connector/ (docstrings excepted: they are
for developers and quote ranges like ``start``..``end``), the console's templates and the
READMEs. An f-string placeholder reads as ``\\x00``.
"""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterator
from pathlib import Path

from connector.cli import build_parser
from connector.errors import clause

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "connector"
HOLE = "\x00"
#: "word.." then a space, the end or a closing quote; and `."` followed by a full stop.
DOUBLED = re.compile(r"[A-Za-z)\]\"'`]\.\.(?=\s|$|[\"'`])|\.[\"'`]\.")
ADVICE = re.compile(r"(?<![\w/.-])ml-connector ([^`\"'\n;,)]*)")
WORD = re.compile(r"[a-z][a-z0-9-]*")
#: Words that follow "ml-connector" in prose ("another ml-connector process holds…"),
#: not commands. Add one only for a sentence, never to silence a wrong command.
PROSE = frozenset(
    {"or", "never", "unless", "service", "raises", "process", "moves", "installation",
     "connection", "is", "itself", "and", "to", "as", "on", "in", "at", "with"}
)
#: A value that reaches a message and may end with its own full stop (an exception,
#: another system's sentence) must go through connector.errors.clause before ". ".
SENTENCE_LIKE = re.compile(r"exc|message|reason|error|detail|problem|why|advice|text", re.I)


def _docstrings(tree: ast.AST) -> set[int]:
    """Bare string statements: docstrings of modules, classes, functions and fields."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def python_texts() -> Iterator[tuple[str, str]]:
    """(where, text) of every string literal and f-string of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        skip = _docstrings(tree)
        inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    str(v.value) if isinstance(v, ast.Constant) else HOLE for v in node.values
                )
                yield where, text
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip | inner
            ):
                yield where, node.value


def document_texts() -> Iterator[tuple[str, str]]:
    for path in [
        *sorted((PACKAGE / "console" / "templates").glob("*.html")),
        ROOT / "README.md",
        ROOT / "deploy" / "README.md",
    ]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            yield f"{path.relative_to(ROOT)}:{number}", line


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def advice_problems(text: str, root: argparse.ArgumentParser) -> list[str]:
    """What is wrong with each `ml-connector …` in ``text`` (empty when all is right)."""
    problems: list[str] = []
    for match in ADVICE.finditer(text):
        tokens = [t.rstrip(".") for t in match.group(1).split()]
        while tokens and tokens[0].startswith("--"):
            if tokens[0] not in _options(root):
                problems.append(f"no global option {tokens[0]}")
            tokens = tokens[2:]
        if not tokens or not WORD.fullmatch(tokens[0]):
            continue  # a placeholder, a pid in parentheses, a label such as "bench:"
        commands = _commands(root)
        if tokens[0] not in commands:
            if tokens[0] not in PROSE:
                problems.append(f"no command {tokens[0]!r} in `ml-connector {match.group(1)}`")
            continue
        parser, named = commands[tokens[0]], tokens[0]
        rest = tokens[1:]
        actions = _commands(parser)
        allowed = _options(parser)
        if actions and rest and re.fullmatch(r"[a-z][a-z0-9|-]*", rest[0]):
            chosen = rest[0].split("|")  # "review list|resolve": any of them
            for action in chosen:
                if action not in actions:
                    problems.append(f"`ml-connector {named}` has no action {action!r}")
            allowed = set().union(*(_options(actions[a]) for a in chosen if a in actions))
            named = f"{named} {rest[0]}"
        flags = {token.split("=")[0] for token in rest if token.startswith("--")}
        for flag in sorted(flags - allowed - _options(root)):
            problems.append(f"`ml-connector {named}` has no option {flag}")
        if "|" not in named and not any(HOLE in t or "…" in t for t in rest):
            problems += [
                f"`ml-connector {named}` needs {' or '.join(needed)}"
                for needed in _required(parser)
                if not flags & set(needed)
            ]
    return problems


def _required(parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """Options a command cannot run without: each required option, and one of each
    required group (``replay`` needs ``--id`` or ``--all-failed``)."""
    needed = [
        tuple(a.option_strings) for a in parser._actions if a.required and a.option_strings
    ]
    needed += [
        tuple(o for a in group._group_actions for o in a.option_strings if o.startswith("--"))
        for group in parser._mutually_exclusive_groups
        if group.required
    ]
    return needed


def test_no_message_has_a_doubled_full_stop() -> None:
    """No text a person reads shows "fix it.." or `."."`."""
    found = [
        f"{where}: …{text[max(0, m.start() - 30):m.end() + 10]!r}"
        for where, text in [*python_texts(), *document_texts()]
        for m in DOUBLED.finditer(text)
    ]
    assert found == []


def test_other_systems_sentences_are_made_clauses_before_our_full_stop() -> None:
    """An exception or a vendor's message placed just before ". " goes through clause(),
    so "One or more validation errors occurred." never turns into "occurred.. Fix…"."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "sandbox" in path.parts:
            continue  # the simulators compose their own vendor sentences
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.JoinedStr):
                continue
            for value, after in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(value, ast.FormattedValue)
                    and isinstance(after, ast.Constant)
                    and str(after.value).startswith(".")
                    and not str(after.value).startswith("..")
                ):
                    expression = ast.get_source_segment(source, value.value) or ""
                    if SENTENCE_LIKE.search(expression) and not expression.startswith("clause("):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {{{expression}}}.")
    assert found == []


def test_every_suggested_command_and_flag_exists_in_the_parser() -> None:
    """`ml-connector <command> [action] --flag` in any message, template or README names a
    command, action and flags the CLI parser has."""
    root = build_parser()
    found = [
        f"{where}: {problem}"
        for where, text in [*python_texts(), *document_texts()]
        for problem in advice_problems(text, root)
    ]
    assert found == []


def test_the_advice_checker_catches_a_wrong_command_action_and_flag() -> None:
    """The checker itself: a misspelt command, action or flag is reported; prose is not."""
    root = build_parser()
    assert advice_problems("run `ml-connector errors retyr 3f9a`", root) == [
        "`ml-connector errors` has no action 'retyr'"
    ]
    assert advice_problems("`ml-connector replay --all-faild`", root) == [
        "`ml-connector replay` has no option --all-faild",
        "`ml-connector replay` needs --id or --all-failed",
    ]
    assert advice_problems("see `ml-connector erors list`", root) == [
        "no command 'erors' in `ml-connector erors list`"
    ]
    assert advice_problems("another ml-connector process holds the state", root) == []
    assert advice_problems("`ml-connector errors dismiss 3f9a --reason TEXT`", root) == []
    assert advice_problems("then run `ml-connector replay`", root) == [
        "`ml-connector replay` needs --id or --all-failed"
    ]


def test_a_vendor_sentence_made_a_clause_is_followed_by_one_full_stop() -> None:
    """clause() drops the vendor's own final full stop (and spaces) and nothing else."""
    vendor = "One or more validation errors occurred. "
    message = f"{clause(vendor)}. Fix the value"
    assert message == "One or more validation errors occurred. Fix the value"
    assert clause("Supplier 42 is blocked") == "Supplier 42 is blocked"
    assert clause(ValueError("bad date.")) == "bad date"
