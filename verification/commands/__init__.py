"""Subcommands of platform-verify, discovered by verification.cli."""


def report(sections: dict[str, list[str]]) -> int:
    """`ok` or `FAIL` per section, each problem indented below; exit 1 when any section failed."""
    for name, problems in sections.items():
        print(f"{'ok' if not problems else 'FAIL':4} {name}")
        for problem in problems:
            print("     " + problem.replace("\n", "\n     "))
    return 1 if any(sections.values()) else 0
