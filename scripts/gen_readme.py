"""Fill every ```console block of README.md with the real output of its `$ shapesmith ...` lines.

The README test runs the same commands and fails when the text differs, so the README can
never show output that shapesmith does not produce. Run: .venv/bin/python scripts/gen_readme.py
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from pathlib import Path

from shapesmith.cli import main

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def run(command: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(shlex.split(command)[1:])
    return out.getvalue() + err.getvalue()


def commands(block: str) -> list[str]:
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


def render(block: str) -> str:
    return "".join(f"$ {cmd}\n{run(cmd)}" for cmd in commands(block))


def filled(text: str) -> str:
    return BLOCK.sub(lambda m: f"```console\n{render(m.group(1))}```", text)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(filled(path.read_text()))
    sys.exit(0)
