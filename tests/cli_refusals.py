"""How every test checks a refused command line: exit code 2, one error line, no traceback, nothing on stdout."""

from __future__ import annotations

from deeplin.cli import main


def refused(capsys, argv: list[str], command: str | None = None) -> str:
    """Run ``deeplin ARGV`` in-process and check the refusal; returns the error line.

    ``command`` is what the line must name after ``deeplin`` (default: the first argument).
    """
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and out == ""
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and err.rstrip("\n").endswith(errors[0]), err
    assert errors[0].startswith(f"deeplin {command or argv[0]}: error: ")
    return errors[0]
