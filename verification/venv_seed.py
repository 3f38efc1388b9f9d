"""A fresh clone's nox venv starts as a copy of a per-machine template, not empty (issue 15).

Why: `pip install -e '.[test,dev]'` into an empty .nox/<session> unpacks and byte-compiles ~100
distributions (640 MB, 36,000 files): 40-75 s on the 2-core sandbox, ~8 s of it downloading.
One venv in the user cache cannot serve every clone: the editable install points at one clone's
sources, so two clones using it at once would run each other's code. So each clone keeps its own
venv, copied from a template with hard links (as uv installs from its cache: pip and the
interpreter replace a file, they never write into it; a plain copy on another filesystem) and the
template's path rewritten, in new files, where files name it (scripts' shebangs, pyvenv.cfg).
pip then runs exactly as before and finds every requirement installed but the project itself.

The key covers the interpreter (pyvenv.cfg), the install recipe and the bytes of the files that
decide what it installs: any change is another key, so a cold install that saves a new template.
A template is used only if complete (its record is written last), younger than MAX_AGE (so the
unpinned ranges of pyproject.toml resolve anew) and unchanged since it was saved (every file's
size and mtime: a write through a link shows); otherwise it is removed and rebuilt from the next
cold install. It is saved only from a venv whose install began empty or from the template, so it
never carries another key's leftovers, and saved again when pip had to add something to the copy.

    python -m verification.venv_seed seed|save VENV --recipe TEXT INPUT...
"""

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from verification.errors import VerificationError
from verification.paths import cache_dir
from verification.run import run

MAX_AGE = 7 * 24 * 3600.0  # seconds a template is used after it was built
MARKER = "platform-verify-seed.json"  # in a clone's venv: the key its install began with, and how
EMPTY = {"pip", "setuptools", "wheel"}  # what virtualenv seeds into a new venv
DESCRIPTION = "Copy a nox venv from the machine's template for its key (seed), or save it as the template (save)."


def key(pyvenv_cfg: str, recipe: str, inputs: Mapping[str, bytes]) -> str:
    """Hex digest of the interpreter (pyvenv.cfg without its `command`, which names the venv's own
    path), the recipe and each input's name and bytes."""
    digest = hashlib.sha256(b"venv-seed 1\0" + recipe.encode() + b"\0")
    for line in sorted(pyvenv_cfg.splitlines()):
        if line.strip() and line.partition("=")[0].strip() != "command":
            digest.update(line.strip().encode() + b"\n")
    for name in sorted(inputs):
        digest.update(f"\0{name}\0{len(inputs[name])}\0".encode() + inputs[name])
    return digest.hexdigest()[:20]


def distributions(venv: Path) -> dict[str, bool]:
    """Installed distributions (dist-info folder names, `name-version`): whether each is editable."""
    found = {}
    for info in sorted(venv.glob("lib/python*/site-packages/*.dist-info")):
        try:
            url = json.loads((info / "direct_url.json").read_text())
        except (OSError, ValueError):
            url = {}
        found[info.name.removesuffix(".dist-info")] = bool(url.get("dir_info", {}).get("editable"))
    return found


def manifest(root: Path) -> str:
    """Digest of every path under `root` with its type, and its size and mtime or link target. The
    mtime in whole seconds, as the interpreter's bytecode check reads it: an archive that keeps
    seconds only (a CI cache) does not change it."""
    digest = hashlib.sha256()
    start = len(str(root)) + 1
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            mode = os.lstat(path)
            if stat.S_ISLNK(mode.st_mode):
                entry = f"L {os.readlink(path)}"
            elif stat.S_ISDIR(mode.st_mode):
                entry = "D"
            else:
                entry = f"F {mode.st_size} {int(mode.st_mtime)}"
            digest.update(f"{path[start:]}\0{entry}\n".encode())
    return digest.hexdigest()


def naming(root: Path, path: str) -> list[str]:
    """Files under `root` whose bytes contain `path` (bytecode aside: the interpreter corrects the
    file names in it on load). Raises ValueError for a link or a binary file naming it: rewriting
    those would break them."""
    found = []
    needle = path.encode()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in dirs + files:
            full = os.path.join(folder, name)
            if os.path.islink(full):
                if path in os.readlink(full):
                    raise ValueError(f"{full} links to {os.readlink(full)}")
            elif name in files and not name.endswith(".pyc"):
                data = Path(full).read_bytes()
                if needle in data:
                    try:
                        data.decode()
                    except UnicodeDecodeError:
                        raise ValueError(f"{full} is binary and names {path}") from None
                    found.append(os.path.relpath(full, root))
    return sorted(found)


def _rewrite(root: Path, files: list[str], old: str, new: str) -> None:
    """Replace `old` by `new` in each file: a new file in its place, never a write into a file
    that may be a hard link to the template's."""
    for name in files:
        path = root / name
        tmp = path.with_name(f"{path.name}.seed-{os.getpid()}")
        tmp.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))
        shutil.copymode(path, tmp)
        tmp.replace(path)


def _copy(source: Path, target: Path) -> str:
    """`cp -a`, with hard links where both are on one filesystem (as uv installs from its cache:
    pip and the interpreter replace files, they never write into them); how it copied."""
    linked = os.stat(source).st_dev == os.stat(target.parent).st_dev
    try:
        run(["cp", "-al" if linked else "-a", str(source), str(target)])
    except BaseException:
        _remove(target)
        raise
    return "linked" if linked else "copied"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[None]:
    store.mkdir(parents=True, exist_ok=True)
    with open(store / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # one seed or save at a time, across processes
        yield


def _template(store: Path, k: str, now: float) -> tuple[dict[str, Any], str]:
    """The template's record if usable, else {} and why not (an unusable one is removed)."""
    record, folder = _read(store / f"{k}.json"), store / k
    if not record and not folder.exists():
        return {}, "none yet"
    if record.get("key") != k or not folder.is_dir():
        why = "incomplete (no record or no folder)"
    elif now - float(record.get("created", 0)) > MAX_AGE:
        why = f"older than {MAX_AGE / 86400:.0f} days"
    elif manifest(folder) != record.get("manifest"):
        why = "changed since it was saved"
    else:
        return record, ""
    _remove(folder)
    (store / f"{k}.json").unlink(missing_ok=True)
    return {}, f"{why}: removed"


def seed(venv: Path, k: str, store: Path) -> str:
    """Make `venv` a copy of the template for key `k` unless its install already began with `k`."""
    marker = _read(venv / MARKER)
    if marker.get("key") == k:
        return f"venv seed: {venv} was set up for key {k} ({marker.get('origin')}): pip checks it"
    empty = {name.split("-")[0].lower() for name in distributions(venv)} <= EMPTY
    begun = time.monotonic()
    with _locked(store):
        record, why = _template(store, k, time.time())
        if not record:
            _write(venv / MARKER, {"key": k, "origin": "empty" if empty else "reused"})
            return f"venv seed: no template for key {k} ({why}): pip installs everything"
        copy = venv.with_name(f"{venv.name}.seed-{os.getpid()}")
        _remove(copy)
        try:
            how = _copy(store / k, copy)
        except VerificationError as error:  # the venv nox made is still there, empty
            _write(venv / MARKER, {"key": k, "origin": "empty" if empty else "reused"})
            return f"venv seed: copying {store / k} failed ({error.line()}): pip installs everything"
    _rewrite(copy, record["relocate"], str(store / k), str(venv))
    _remove(venv)
    copy.rename(venv)
    prefix = run([str(venv / "bin" / "python"), "-I", "-c", "import sys; print(sys.prefix)"]).stdout.strip()
    if prefix != str(venv):
        with _locked(store):
            _remove(store / k)
            (store / f"{k}.json").unlink(missing_ok=True)
        _remove(venv)
        raise VerificationError(f"venv seed: the copy of {store / k} ran with prefix {prefix}, not {venv}: removed")
    _write(venv / MARKER, {"key": k, "origin": "template"})
    return f"venv seed: {venv} {how} from {store / k} in {time.monotonic() - begun:.1f} s"


def save(venv: Path, k: str, store: Path) -> str:
    """Make the template for key `k` a copy of `venv` without its editable projects, unless the
    template is usable and holds the same distributions."""
    marker = _read(venv / MARKER)
    if marker.get("key") != k:
        return f"venv seed: not saved: {venv}'s install began with key {marker.get('key')}, not {k}"
    if marker.get("origin") == "reused":
        return f"venv seed: not saved: {venv} held other distributions when this install began"
    installed = distributions(venv)
    kept = sorted(name for name, editable in installed.items() if not editable)
    begun = time.monotonic()
    with _locked(store):
        record, _ = _template(store, k, time.time())
        if record.get("distributions") == kept:
            return f"venv seed: template {store / k} holds the same {len(kept)} distributions"
        tmp = store / f"{k}.tmp-{os.getpid()}"
        try:  # a template that cannot be made costs the next clone time, not this run its result
            _copy(venv, tmp)
            (tmp / MARKER).unlink()
            for name, editable in installed.items():
                if editable:  # -I: neither the current directory (a clone) nor PYTHONPATH can stand in for it
                    run([str(tmp / "bin" / "python"), "-I", "-m", "pip", "uninstall", "-y", "-q", name.split("-")[0]])
            left = [name for name, editable in distributions(tmp).items() if editable]
            if left:
                raise ValueError(f"pip uninstall left {', '.join(left)} in the copy")
            relocate = naming(tmp, str(venv))
        except (ValueError, VerificationError) as error:
            _remove(tmp)
            return f"venv seed: not saved: {error if isinstance(error, ValueError) else error.line()}"
        _rewrite(tmp, relocate, str(venv), str(store / k))
        _remove(store / k)
        tmp.rename(store / k)
        created = time.time()
        record = {"key": k, "created": created, "manifest": manifest(store / k)}
        _write(store / f"{k}.json", {**record, "distributions": kept, "relocate": relocate})
        for other in store.glob("*.json"):  # templates too old to be used again
            if created - float(_read(other).get("created", 0)) > MAX_AGE:
                other.unlink()
        for folder in store.iterdir():  # ... and folders without a record: old, or an interrupted save
            if folder.is_dir() and not (store / f"{folder.name}.json").is_file():
                _remove(folder)
    return f"venv seed: saved {store / k} ({len(kept)} distributions) in {time.monotonic() - begun:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verification.venv_seed", description=DESCRIPTION)
    parser.add_argument("action", choices=["seed", "save"])
    parser.add_argument("venv", type=Path)
    parser.add_argument("--recipe", required=True, help="what the session installs, in words")
    parser.add_argument("inputs", nargs="+", type=Path, help="files that decide what it installs")
    args = parser.parse_args(argv)
    venv = Path(os.path.abspath(args.venv))
    k = key((venv / "pyvenv.cfg").read_text(), args.recipe, {str(p): p.read_bytes() for p in args.inputs})
    store = Path(os.path.abspath(cache_dir() / "venvs"))
    try:
        print((seed if args.action == "seed" else save)(venv, k, store))
    except VerificationError as error:
        print(error.line(), file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
