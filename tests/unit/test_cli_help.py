"""The CLI's help reads as plain options (`--port N`, `--json`), without typer's `<str>`/`<bool>` markers."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

COMMANDS = [[], ["serve"], ["keys"], ["keys", "create"], ["keys", "list"], ["usage"], ["verify"], ["config", "check"]]
SCRIPT = """
import contextlib, io, sys
from anygate.cli import main
for args in {commands!r}:
    sys.argv = ["anygate", *args, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main()
        except SystemExit:
            pass
    print("=== " + " ".join(args))
    print(out.getvalue())
"""


def test_help_has_no_type_markers() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(commands=COMMANDS)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "120", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("=== ") == len(COMMANDS)
    assert re.findall(r"<(?:str|bool|int|float)[^>]*>", result.stdout) == []
    assert re.search(r"--port\s+N\s", result.stdout) and re.search(r"--budget\s+AMOUNT\s", result.stdout)
    assert re.search(r"--json\s+Print JSON", result.stdout)


def test_workers_are_a_number_or_one_per_core() -> None:
    import os

    import typer

    from anygate.cli import worker_count

    assert worker_count("3") == 3 and worker_count("256") == 256 and worker_count("auto") == len(os.sched_getaffinity(0))
    for wrong in ("0", "-1", "two", "", "257"):  # the workers' shared limits have places for 256
        with pytest.raises(typer.BadParameter):
            worker_count(wrong)
