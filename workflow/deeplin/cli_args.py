"""What every ``deeplin`` subcommand shares: refusing bad input in one line (exit code 2), file arguments,
and the one way a step receives its settings, a validated JSON slice of the study config."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .config import ConfigError, validate_slice


def fail(command: str, message: str) -> NoReturn:
    """Refuse bad input found after parsing as argparse does: one line on stderr, exit code 2."""
    print(f"deeplin {command}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def input_file(text: str) -> str:
    """argparse type: a file that exists (instead of a traceback from deep inside the step)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"is a directory, not a file: {text!r}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return text


def add_settings(parser: argparse.ArgumentParser, example: str) -> None:
    """The step's ``--settings``: its slice of the study config as JSON (the rules pass exactly that)."""
    parser.add_argument(
        "--settings",
        required=True,
        metavar="JSON",
        help=f"this step's part of the study config as JSON, e.g. {example}; checked against the schema, "
        "whose defaults fill in what it leaves out",
    )


def parse_settings(command: str, text: str) -> dict[str, Any]:
    """The validated settings of ``--settings``, defaults filled in; refuses bad ones in one line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(command, f"--settings is not valid JSON ({exc}): {text!r}")
    try:
        return validate_slice(data)
    except ConfigError as exc:
        fail(command, "--settings: " + "; ".join(exc.problems))


def listed_files(path: str) -> list[str]:
    """The paths in a ``--…-from`` list: one a line, blank lines ignored (no quoting, as in rsync's)."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def integer(minimum: int):
    """argparse type: an integer >= ``minimum`` (argparse names the option and the value on refusal)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    return parse


def finite(minimum: float, exclusive: bool = False):
    """argparse type: a finite float >= (or >) ``minimum``; NaN compares false with any bound, so test it."""
    bound = f"{'>' if exclusive else '>='} {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (value <= minimum if exclusive else value < minimum):
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text!r}")
        return value

    return parse


def result_settings(result_id: str, step: str, text: str, required: Sequence[str]) -> dict[str, Any]:
    """The validated ``--settings`` of step ``step`` of result ``result_id``; its section must hold the
    ``required`` keys (the schema's defaults fill in the rest), else a one-line refusal naming them."""
    command = f"{result_id} {step}"
    settings = parse_settings(command, text)
    section = settings.get(result_id, {})
    missing = [name for name in required if name not in section]
    if missing:
        fail(command, f"--settings: needs {', '.join(f'{result_id}.{name}' for name in missing)}")
    return settings


def named_files(command: str, option: str, items: Sequence[str]) -> dict[str, str]:
    """``NAME=PATH`` arguments (e.g. one theory curve per model) as {name: path}; each file must exist."""
    files = {}
    for item in items:
        name, separator, path = item.partition("=")
        if not separator or not name or not Path(path).is_file():
            fail(command, f"{option}: expected MODEL=PATH with an existing file, got {item!r}")
        files[name] = path
    return files
