"""`python -m verification.mutants` and `platform-verify mutants`: listing and bad input."""

import subprocess
import sys

from verification.mutants import catalog


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120, check=False)


def test_list_prints_the_selected_area() -> None:
    proc = _run("verification.mutants", "--list", "--area", "quotas")
    assert proc.returncode == 0, proc.stderr
    quotas = [m for m in catalog.load() if m.area == "quotas"]
    assert proc.stdout.strip().splitlines()[-1] == f"{len(quotas)} mutants"
    assert all(m.id in proc.stdout for m in quotas)


def test_unknown_id_is_one_line_and_exit_2() -> None:
    proc = _run("verification.mutants", "--id", "no-such-mutant")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"mutants: error: --id no-such-mutant: no such mutant in {catalog.CATALOG_DIR} (see --list)"
    )


def test_platform_verify_registers_the_command() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from verification.cli import main; raise SystemExit(main())",
            "mutants",
            "--list",
            "--id",
            "quotas-test-resourcequota-deleted",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "quotas-test-resourcequota-deleted" in proc.stdout and proc.stdout.strip().endswith("1 mutants")
