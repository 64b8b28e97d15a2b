"""Prints commands from the README's ```bash blocks, so that CI runs what the README says.

    python .ci/readme_commands.py install   every `pip install ...` line, in the README's order
    python .ci/readme_commands.py test      the test command (`python -m pytest`, as written)
"""
import os
import re
import sys

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
PATTERNS = {"install": r"pip install .*", "test": r"python -m pytest( .*)?"}


def commands(kind: str, text: str) -> list:
    """The lines of ```bash blocks that are a `kind` command (comments after # dropped)."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if re.fullmatch(PATTERNS[kind], line):
                found.append(line)
    return found


if __name__ == "__main__":
    kind = sys.argv[1]
    with open(README, encoding="utf-8") as f:
        lines = commands(kind, f.read())
    if not lines or (kind == "test" and len(lines) != 1):
        sys.exit(f"README.md: expected {'one' if kind == 'test' else 'some'} {kind} command(s) "
                 f"in ```bash blocks, found {lines}")
    print("\n".join(lines))
