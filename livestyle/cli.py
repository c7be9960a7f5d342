"""Command line: `livestyle [live] ...`, `styles`, `stylize`, `train`, `eval-stability`, `bench`.

Every subcommand lives in the module that does its job and registers itself here through a
`register(subparsers)` function that sets `func` (args -> exit code). User errors surface as
one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterable

from livestyle import __version__
from livestyle.core.errors import LivestyleError
from livestyle.core.signals import StopSignal

# Modules that add subcommands, in the order `livestyle --help` lists them.
COMMAND_MODULES = (
    "livestyle.commands.live",
    "livestyle.commands.styles",
    "livestyle.commands.stylize",
    "livestyle.commands.train",
    "livestyle.commands.eval_stability",
    "livestyle.commands.bench",
)
DEFAULT_COMMAND = "live"


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage + error on bad options; keep it to the one-line error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="livestyle", description="Real-time webcam video stylizer.")
    parser.add_argument("--version", action="version", version=f"livestyle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency, not an absent command module
                raise
            continue
        module.register(sub)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    choices: dict[str, argparse.ArgumentParser] = {}
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        choices.update(action.choices)  # type: ignore[arg-type]
    return choices


def _takes_value(option: str, parsers: Iterable[argparse.ArgumentParser]) -> bool:
    """Whether `option` (as typed, without '=VALUE') consumes the next word in any command."""
    for sub in parsers:
        action = sub._option_string_actions.get(option)
        if action is not None:
            return action.nargs != 0
    return False


def _with_default_command(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Put the command first: `livestyle --source demo` means `livestyle live --source demo`,
    and `livestyle --styles-dir X styles` means `livestyle styles --styles-dir X`."""
    if any(a in ("-h", "--help", "--version") for a in argv[:1]):
        return argv
    commands = _subparsers(parser)
    flags = [a for a in argv if a in ("-v", "--verbose")]
    rest = [a for a in argv if a not in ("-v", "--verbose")]
    # Skip the options written before the first plain word; that word may be the command.
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        option = rest[i]
        i += 2 if "=" not in option and _takes_value(option, commands.values()) else 1
    if i < len(rest) and rest[i] in commands:
        return [*flags, rest[i], *rest[:i], *rest[i + 1 :]]
    return [*flags, DEFAULT_COMMAND, *rest]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(_with_default_command(argv, parser))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="livestyle: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except LivestyleError as exc:
        print(f"livestyle: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except StopSignal as stop:  # SIGTERM, SIGHUP (and SIGINT) where the work catches them
        print(f"livestyle: stopped by {stop}", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("livestyle: interrupted", file=sys.stderr)
        return 130
