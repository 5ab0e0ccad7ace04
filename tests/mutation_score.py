"""The score per module of the last `make mutate` run, and its survivors (docs/TESTING.md).

Usage: python tests/mutation_score.py build/mutate   (the folder mutmut ran in)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# mutmut 3's exit codes of a mutant's test run (mutmut/stats.py)
KILLED = {1, 3, 37}  # 3: pytest broke, which is a kill; 37: caught by the type check
TIMEOUT = {24, -24, 36, 152, 255}  # a mutant that hangs the tests: counted as killed
SURVIVED = {0}
NO_TESTS = {5, 33}


def outcome(code: int | None) -> str:
    if code in KILLED or code in TIMEOUT:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return "not run" if code is None else f"other ({code})"


def main(folder: Path) -> int:
    metas = sorted((folder / "mutants").rglob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {folder}/mutants", file=sys.stderr)
        return 1
    print("| module | mutants | killed | survived | no tests | not run | score |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    survivors = []
    for meta in metas:
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        counts = Counter(outcome(code) for code in codes.values())
        module = str(meta.relative_to(folder / "mutants")).removesuffix(".meta")
        ran = counts["killed"] + counts["survived"] + counts["no tests"]
        score = f"{100 * counts['killed'] / ran:.0f} %" if ran else "-"
        print(
            f"| {module} | {len(codes)} | {counts['killed']} | {counts['survived']} "
            f"| {counts['no tests']} | {len(codes) - ran} | {score} |"
        )
        survivors += [name for name, code in codes.items() if outcome(code) == "survived"]
    print(f"\nsurvivors ({len(survivors)}); see each with: mutmut show NAME (in {folder})")
    for name in survivors:
        print(f"- {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/mutate")))
