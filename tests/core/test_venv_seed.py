"""verification/venv_seed.py on real (pip-less) venvs: a clone's venv copied from the template names
its own path, and a template that is incomplete, old, changed or built from leftovers is not used."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from verification import venv_seed
from verification.errors import CommandError, VerificationError

CFG = "home = /usr/bin\nversion = 3.11.7\ncommand = /usr/bin/python3 -m venv {}\n"


def _venv(path: Path, *dists: str) -> Path:
    """A real venv (no pip) with hand-made dist-info folders and a console script naming its path."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = next(path.glob("lib/python*/site-packages"))
    for dist in dists:
        (site / f"{dist}.dist-info").mkdir()
        (site / f"{dist}.dist-info" / "METADATA").write_text(f"Name: {dist.split('-')[0]}\n")
    (path / "bin" / "tool").write_text(f"#!{path}/bin/python\nimport sys\nprint(sys.prefix)\n")
    (path / "bin" / "tool").chmod(0o755)
    return path


def _key(venv: Path) -> str:
    return venv_seed.key((venv / "pyvenv.cfg").read_text(), "recipe", {"pyproject.toml": b"deps"})


def test_key_ignores_the_venvs_own_path_and_nothing_else() -> None:
    inputs = {"pyproject.toml": b"x", "apps/a/req.txt": b"y"}
    base = venv_seed.key(CFG.format("/a/.nox/e2e"), "r", inputs)
    assert venv_seed.key(CFG.format("/b/.nox/tests"), "r", dict(reversed(inputs.items()))) == base
    assert venv_seed.key(CFG.format("/a") + "extra = 1\n", "r", inputs) != base
    assert venv_seed.key(CFG.replace("3.11.7", "3.11.8"), "r", inputs) != base
    assert venv_seed.key(CFG, "other", inputs) != base
    assert venv_seed.key(CFG, "r", {**inputs, "apps/a/req.txt": b"y2"}) != base
    assert venv_seed.key(CFG, "r", {"pyproject.toml": b"x", "apps/b/req.txt": b"y"}) != base  # same bytes, other file
    assert venv_seed.key(CFG, "r", {"p": b"xy"}) != venv_seed.key(CFG, "r", {"p": b"x", "y": b""})


def test_distributions_tell_editable_projects_apart(tmp_path: Path) -> None:
    venv = _venv(tmp_path / "v", "pip-26.3", "numpy-2.4.6", "platform_verification-0.1.0")
    site = next(venv.glob("lib/python*/site-packages"))
    url = {"url": "file:///src", "dir_info": {"editable": True}}
    (site / "platform_verification-0.1.0.dist-info" / "direct_url.json").write_text(json.dumps(url))
    assert venv_seed.distributions(venv) == {
        "numpy-2.4.6": False,
        "pip-26.3": False,
        "platform_verification-0.1.0": True,
    }


def test_manifest_sees_size_mtime_deletion_and_link_target(tmp_path: Path) -> None:
    root = tmp_path / "t"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f").write_text("abc")
    (root / "link").symlink_to("d")
    before = venv_seed.manifest(root)
    assert venv_seed.manifest(root) == before
    (root / "d" / "f").write_text("abd")  # same size: the mtime tells
    os.utime(root / "d" / "f", ns=(1, 1))
    changed = venv_seed.manifest(root)
    assert changed != before
    (root / "link").unlink()
    (root / "link").symlink_to("e")
    relinked = venv_seed.manifest(root)
    assert relinked not in (before, changed)
    (root / "d" / "f").unlink()
    assert venv_seed.manifest(root) not in (before, changed, relinked)


def test_naming_finds_text_files_and_refuses_binaries_and_links(tmp_path: Path) -> None:
    root = tmp_path / "t"
    (root / "bin").mkdir(parents=True)
    (root / "__pycache__").mkdir()
    (root / "bin" / "tool").write_text("#!/old/venv/bin/python\n")
    (root / "pyvenv.cfg").write_text("command = python -m venv /old/venv\n")
    (root / "other").write_text("nothing here\n")
    (root / "m.pyc").write_bytes(b"\x00/old/venv\xff")
    (root / "__pycache__" / "m.txt").write_bytes(b"/old/venv")
    assert venv_seed.naming(root, "/old/venv") == ["bin/tool", "pyvenv.cfg"]
    (root / "lib.so").write_bytes(b"\xff\xfe/old/venv\x00")
    with pytest.raises(ValueError, match=r"lib\.so is binary"):
        venv_seed.naming(root, "/old/venv")
    (root / "lib.so").unlink()
    (root / "lib").symlink_to("/old/venv/lib")
    with pytest.raises(ValueError, match="links to /old/venv/lib"):
        venv_seed.naming(root, "/old/venv")


def test_second_clone_gets_a_copy_naming_its_own_path(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = _venv(tmp_path / "one" / ".nox" / "e2e", "pip-26.3")
    k = _key(first)
    assert "no template" in venv_seed.seed(first, k, store)
    installed = next(first.glob("lib/python*/site-packages")) / "numpy-2.4.6.dist-info"  # what pip installs
    installed.mkdir()
    (installed / "RECORD").write_text("numpy/__init__.py,,\n")
    assert "saved" in venv_seed.save(first, k, store)
    template = store / k
    assert str(first) not in (template / "bin" / "tool").read_text()
    assert str(template) in (template / "bin" / "tool").read_text()
    assert not (template / venv_seed.MARKER).exists()

    second = _venv(tmp_path / "two" / ".nox" / "e2e", "pip-26.3")
    assert _key(second) == k  # the same interpreter, recipe and inputs: another path
    assert "linked from" in venv_seed.seed(second, k, store)  # one filesystem: hard links
    assert (second / "bin" / "tool").read_text().startswith(f"#!{second}/bin/python\n")
    assert (template / "bin" / "tool").read_text().startswith(f"#!{template}/bin/python\n")  # a new file, not a write
    assert os.access(second / "bin" / "tool", os.X_OK)
    assert (second / "pyvenv.cfg").stat().st_ino != (template / "pyvenv.cfg").stat().st_ino
    assert (second / "bin" / "activate").stat().st_ino != (template / "bin" / "activate").stat().st_ino
    record = installed.relative_to(first) / "RECORD"
    assert (second / record).stat().st_ino == (template / record).stat().st_ino  # linked, not copied
    assert subprocess.run([second / "bin" / "tool"], capture_output=True, text=True).stdout.strip() == str(second)
    assert "numpy-2.4.6" in venv_seed.distributions(second)
    assert json.loads((second / venv_seed.MARKER).read_text()) == {"key": k, "origin": "template"}
    assert "holds the same 2 distributions" in venv_seed.save(second, k, store)
    assert "was set up for key" in venv_seed.seed(second, k, store)  # a reused venv is not copied again

    (next(second.glob("lib/python*/site-packages")) / "extra-1.0.dist-info").mkdir()  # pip added one
    assert "saved" in venv_seed.save(second, k, store)
    assert "extra-1.0" in json.loads((store / f"{k}.json").read_text())["distributions"]


def test_another_filesystem_gets_a_real_copy(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem to copy to")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "f").write_text("x")
    target = shm / f"venv-seed-test-{os.getpid()}"
    try:
        assert venv_seed._copy(tmp_path / "t", target) == "copied"
        assert (target / "f").read_text() == "x"
    finally:
        venv_seed._remove(target)
    assert venv_seed._copy(tmp_path / "t", tmp_path / "u") == "linked"
    assert (tmp_path / "u" / "f").stat().st_ino == (tmp_path / "t" / "f").stat().st_ino


def _saved(tmp_path: Path) -> tuple[Path, str]:
    store = tmp_path / "store"
    first = _venv(tmp_path / "one", "pip-26.3")
    k = _key(first)
    venv_seed.seed(first, k, store)
    (next(first.glob("lib/python*/site-packages")) / "numpy-2.4.6.dist-info").mkdir()
    assert "saved" in venv_seed.save(first, k, store)
    return store, k


def _edit_a_script(template: Path) -> None:
    (template / "bin" / "tool").write_text("changed")


def _delete_a_distribution(template: Path) -> None:
    next(template.glob("lib/python*/site-packages/numpy-*")).rmdir()


def _lose_the_record(template: Path) -> None:
    template.with_name(f"{template.name}.json").unlink()


def _age_eight_days(template: Path) -> None:
    record = template.with_name(f"{template.name}.json")
    record.write_text(json.dumps({**json.loads(record.read_text()), "created": time.time() - 8 * 86400}))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_edit_a_script, "changed since it was saved: removed"),
        (_delete_a_distribution, "changed since it was saved: removed"),
        (_lose_the_record, "incomplete (no record or no folder): removed"),
        (_age_eight_days, "older than 7 days: removed"),
    ],
)
def test_a_broken_or_old_template_is_removed_not_used(
    tmp_path: Path, damage: Callable[[Path], None], reason: str
) -> None:
    store, k = _saved(tmp_path)
    damage(store / k)
    second = _venv(tmp_path / "two", "pip-26.3")
    assert venv_seed.seed(second, k, store) == f"venv seed: no template for key {k} ({reason}): pip installs everything"
    assert not (store / k).exists() and not (store / f"{k}.json").exists()
    assert "numpy-2.4.6" not in venv_seed.distributions(second)  # left for pip to install
    assert json.loads((second / venv_seed.MARKER).read_text())["origin"] == "empty"


def test_a_venv_with_other_distributions_is_not_saved(tmp_path: Path) -> None:
    store = tmp_path / "store"
    venv = _venv(tmp_path / "v", "pip-26.3", "left_over-1.0")  # reused after the inputs changed
    k = _key(venv)
    assert "no template" in venv_seed.seed(venv, k, store)
    assert venv_seed.save(venv, k, store).endswith("held other distributions when this install began")
    assert not (store / k).exists()
    assert "began with key None" in venv_seed.save(_venv(tmp_path / "w"), k, store)  # never seeded


def test_a_copy_that_runs_elsewhere_is_refused(tmp_path: Path) -> None:
    store, k = _saved(tmp_path)
    python = store / k / "bin" / "python"
    python.unlink()
    python.write_text("#!/bin/sh\necho /somewhere/else\n")
    python.chmod(0o755)
    record = json.loads((store / f"{k}.json").read_text())
    (store / f"{k}.json").write_text(json.dumps({**record, "manifest": venv_seed.manifest(store / k)}))
    second = _venv(tmp_path / "two")
    with pytest.raises(VerificationError, match="ran with prefix /somewhere/else"):
        venv_seed.seed(second, k, store)
    assert not (store / k).exists() and not second.exists()


def test_old_templates_and_orphan_folders_are_pruned_on_save(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "old").mkdir()
    (store / "old.json").write_text(json.dumps({"key": "old", "created": time.time() - 8 * 86400}))
    (store / "orphan").mkdir()
    (store / "recent").mkdir()
    (store / "recent.json").write_text(json.dumps({"key": "recent", "created": time.time()}))
    venv = _venv(tmp_path / "v", "pip-26.3")
    k = _key(venv)
    venv_seed.seed(venv, k, store)
    venv_seed.save(venv, k, store)
    assert sorted(p.name for p in store.iterdir()) == sorted([".lock", k, f"{k}.json", "recent", "recent.json"])


def test_an_editable_project_that_pip_cannot_remove_is_never_saved(tmp_path: Path) -> None:
    store = tmp_path / "store"
    venv = _venv(tmp_path / "v")  # no pip in it: `pip uninstall` of the project fails
    k = _key(venv)
    venv_seed.seed(venv, k, store)
    info = next(venv.glob("lib/python*/site-packages")) / "platform_verification-0.1.0.dist-info"
    info.mkdir()
    (info / "direct_url.json").write_text(json.dumps({"url": "file:///clone", "dir_info": {"editable": True}}))
    said = venv_seed.save(venv, k, store)
    assert said.startswith("venv seed: not saved: ") and "No module named pip" in said
    assert sorted(p.name for p in store.iterdir()) == [".lock"]  # neither a template nor a leftover


def test_a_failed_copy_leaves_the_install_to_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, k = _saved(tmp_path)

    def broken(source: Path, target: Path) -> str:
        raise CommandError(["cp", "-al", str(source), str(target)], 1, "", "cp: No space left on device")

    monkeypatch.setattr(venv_seed, "_copy", broken)
    second = _venv(tmp_path / "two", "pip-26.3")
    said = venv_seed.seed(second, k, store)
    assert said.startswith(f"venv seed: copying {store / k} failed (") and "No space left" in said
    assert said.endswith("): pip installs everything")
    assert json.loads((second / venv_seed.MARKER).read_text()) == {"key": k, "origin": "empty"}
    assert (second / "bin" / "tool").read_text().startswith(f"#!{second}/")  # nox's venv, untouched
