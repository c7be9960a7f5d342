"""Command line: `livestyle [live] ...`, `styles`, `stylize`, `train`, `eval-stability`, `bench`.

Every subcommand lives in the module that does its job and registers itself here through a
`register(subparsers)` function that sets `func` (args -> exit code). User errors surface as
one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import itertools
import logging
import re
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
UNRECOGNIZED = "unrecognized arguments: "
# argparse's message for a value not among an option's choices (quoted up to Python 3.13).
INVALID_CHOICE = re.compile(
    r"invalid choice: '?(?P<value>[^']*?)'? \(choose from (?P<choices>.*)\)"
)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate `word` most likely misspells, or None when none is close; dashes are
    left out of the comparison, where every option would look alike."""
    by_name = {c.lstrip("-"): c for c in candidates}
    found = difflib.get_close_matches(word.lstrip("-"), list(by_name), n=1, cutoff=0.7)
    return by_name[found[0]] if found else None


class _Probing(Exception):
    """An error argparse raised while CommandParser.error looked at the words a second time."""


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage + error on bad options; keep it to the one-line error, and say
    which option or choice a misspelt one was probably meant to be."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {self.with_suggestions(message)} (see --help)", file=sys.stderr)
        raise SystemExit(2)

    def with_suggestions(self, message: str) -> str:
        """`message` with "did you mean" after each unknown option or invalid choice that is
        close to a real one (argparse's own suggest_on_error is Python 3.14's)."""
        if message.startswith(UNRECOGNIZED):
            words = message[len(UNRECOGNIZED) :].split(" ")
            options = itertools.takewhile(lambda w: w != "--", words)  # then plain words
            suggested = [self._suggested(word) for word in options]
            return UNRECOGNIZED + " ".join([*suggested, *words[len(suggested) :]])
        choice = INVALID_CHOICE.search(message)
        if choice:
            choices = [c.strip().strip("'\"") for c in choice["choices"].split(",")]
            match = closest(choice["value"], choices)
            if match:
                return f"{message}; did you mean {match!r}?"
        return message

    def _suggested(self, word: str) -> str:
        if not word.startswith("-"):
            return word
        long_options = [o for o in self._option_string_actions if o.startswith("--")]
        match = closest(word.split("=", 1)[0], long_options)
        return f"{word} (did you mean {match}?)" if match else word


class CommandParser(OneLineParser):
    """A subcommand's parser: it reports the words it does not know itself (the top parser
    would, without the command's options to suggest from), and an unknown option before any
    other error: the value meant for `--stlye` is no `--style`, the typo is the cause."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._words: list[str] = []  # what the parse reads, for error() to look at again
        self._probing = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        self._words = list(sys.argv[1:] if args is None else args)
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(UNRECOGNIZED + " ".join(extras))
        return namespace, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        if self._probing:
            raise _Probing(message)
        unknown = self.unknown_options()
        if unknown and not message.startswith(UNRECOGNIZED):
            message = UNRECOGNIZED + " ".join(unknown)
        super().error(message)

    def unknown_options(self) -> list[str]:
        """The words of the parse that are options this parser does not have, found as
        argparse finds them (abbreviations and negative numbers are no unknown options)."""
        unknown: list[str] = []
        self._probing = True
        try:
            for word in itertools.takewhile(lambda w: w != "--", self._words):
                try:
                    found = self._parse_optional(word)
                except _Probing:  # an ambiguous abbreviation: argparse says so itself
                    continue
                # (action, option, ...) up to Python 3.12, a list of such tuples after it.
                if isinstance(found, list):
                    found = found[0] if found else None
                if found is not None and found[0] is None:
                    unknown.append(word)
        finally:
            self._probing = False
        return unknown


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="livestyle", description="Real-time webcam video stylizer.")
    parser.add_argument("--version", action="version", version=f"livestyle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", parser_class=CommandParser, metavar="COMMAND")
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
    # `live` takes no plain words: a first word close to a command's name is its typo.
    match = closest(rest[0], commands) if rest and i == 0 else None
    if match:
        parser.error(f"unknown command {rest[0]!r} (did you mean {match}?)")
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
