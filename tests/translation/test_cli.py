"""`counsel-room models install argos|multilingual|NAME` and `models list`, through the CLI,
against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app
from translation import argos, paths
from translation.argos import ArgosTranslator
from translation.base import forget_loaded
from translation.manifest import read_manifest


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COUNSEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COUNSEL_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("COUNSEL_TRANSLATION_DIR", raising=False)
    forget_loaded()
    return tmp_path / "models" / "translation"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _publish(root: Path, pack: Path, *, checksum: bool, body: bytes | None = None) -> None:
    """An Argos-style index.json with one es->en entry and the pack beside it."""
    (root / pack.name).write_bytes(pack.read_bytes() if body is None else body)
    entry: dict[str, object] = {
             "package_version": "1.0", "argos_version": "1.0", "type": "translate",
             "from_code": "es", "from_name": "Spanish", "to_code": "en", "to_name": "English",
             "links": [f"{{base}}/{pack.name}"]}
    if checksum:
        entry |= {"sha256": _sha(pack), "size": pack.stat().st_size}
    other = {**entry, "from_code": "fr", "to_code": "en", "links": ["{base}/missing"]}
    (root / "index.json").write_text(json.dumps([other, entry]))


def _fix_links(root: Path, base: str) -> None:
    index = root / "index.json"
    index.write_text(index.read_text().replace("{base}", base))


def test_install_from_a_local_index_with_checksum(
    env: Path, es_en_pack: Path, http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    _publish(root, es_en_pack, checksum=True)
    _fix_links(root, base)
    done = CliRunner().invoke(app, ["models", "install", "argos", "es", "en",
                                    "--index-url", f"{base}/index.json"])
    assert done.exit_code == 0, done.output
    assert "Installed es→en" in done.output
    (pack,) = argos.discover(paths.argos_dir(env))
    manifest = read_manifest(pack.path)
    assert manifest["sha256"] == _sha(es_en_pack)
    assert manifest["source"] == f"{base}/{es_en_pack.name}"
    translated = ArgosTranslator.load(pack.path).translate_batch(["Hola, amigo."], "es", "en")
    assert translated == ["Hello, friend."]


def test_keep_leaves_an_installed_pair_alone(
    env: Path, es_en_pack: Path, http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    _publish(root, es_en_pack, checksum=True)
    _fix_links(root, base)
    index = ["--index-url", f"{base}/index.json"]
    first = CliRunner().invoke(app, ["models", "install", "argos", "es", "en", "--keep", *index])
    assert first.exit_code == 0 and "Installed es→en" in first.output, first.output
    (root / es_en_pack.name).unlink()  # a second download would fail now
    again = CliRunner().invoke(app, ["models", "install", "argos", "es", "en", "--keep", *index])
    assert again.exit_code == 0 and "installed already" in again.output, again.output


def test_without_an_index_checksum_the_manifest_records_one(
    env: Path, es_en_pack: Path, http_root: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, base = http_root
    _publish(root, es_en_pack, checksum=False)
    _fix_links(root, base)
    monkeypatch.setenv("COUNSEL_TRANSLATION_INDEX_URL", f"{base}/index.json")
    done = CliRunner().invoke(app, ["models", "install", "argos", "es", "en"])
    assert done.exit_code == 0, done.output
    (pack,) = argos.discover(paths.argos_dir(env))
    assert read_manifest(pack.path)["sha256"] == _sha(es_en_pack)


def test_a_corrupted_download_is_rejected(
    env: Path, es_en_pack: Path, http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    damaged = bytearray(es_en_pack.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    _publish(root, es_en_pack, checksum=True, body=bytes(damaged))
    _fix_links(root, base)
    done = CliRunner().invoke(app, ["models", "install", "argos", "es", "en",
                                    "--index-url", f"{base}/index.json"])
    assert done.exit_code == 1
    assert "corrupted or wrong download" in done.output and "nothing installed" in done.output
    assert argos.discover(paths.argos_dir(env)) == []


def test_a_pair_missing_from_the_index_is_named(
    env: Path, es_en_pack: Path, http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    _publish(root, es_en_pack, checksum=True)
    _fix_links(root, base)
    done = CliRunner().invoke(app, ["models", "install", "argos", "ko", "vi",
                                    "--index-url", f"{base}/index.json"])
    assert done.exit_code == 1
    assert "no ko→vi pack" in done.output and "es→en" in done.output


def test_an_unreachable_index_is_a_clear_error(env: Path, http_root: tuple[Path, str]) -> None:
    _, base = http_root
    done = CliRunner().invoke(app, ["models", "install", "argos", "es", "en",
                                    "--index-url", f"{base}/nothing-here.json"])
    assert done.exit_code == 1 and "cannot download" in done.output


def test_install_from_file_checks_the_pair(env: Path, es_en_pack: Path) -> None:
    runner = CliRunner()
    wrong = runner.invoke(app, ["models", "install", "argos", "en", "de", "--file",
                                str(es_en_pack)])
    assert wrong.exit_code == 1 and "translates es→en, not en→de" in wrong.output
    right = runner.invoke(app, ["models", "install", "argos", "es", "en", "--file",
                                str(es_en_pack), "--sha256", _sha(es_en_pack)])
    assert right.exit_code == 0, right.output
    bad_sum = runner.invoke(app, ["models", "install", "argos", "es", "en", "--file",
                                  str(es_en_pack), "--sha256", "0" * 64])
    assert bad_sum.exit_code == 1 and "corrupted or wrong" in bad_sum.output
    assert len(argos.discover(paths.argos_dir(env))) == 1, "the installed pack stays"


def test_install_multilingual_from_url_and_dir_and_list(
    env: Path, m2m_model: Path, es_en_pack: Path, http_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = http_root
    archive = root / "tiny-m2m.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        bundle.add(m2m_model, arcname="tiny-m2m")
    runner = CliRunner()
    refused = runner.invoke(app, ["models", "install", "multilingual", "--url",
                                  f"{base}/tiny-m2m.tar.gz", "--sha256", "f" * 64])
    assert refused.exit_code == 1 and "corrupted or wrong download" in refused.output
    done = runner.invoke(app, ["models", "install", "multilingual", "--url",
                               f"{base}/tiny-m2m.tar.gz", "--sha256", _sha(archive)])
    assert done.exit_code == 0, done.output
    assert "m2m100, 4 languages, licence MIT" in done.output
    copy = tmp_path / "nllb-like"
    shutil.copytree(m2m_model, copy)
    from_dir = runner.invoke(app, ["models", "install", "multilingual", "--dir", str(copy),
                                   "--name", "second", "--licence", "CC-BY-NC-4.0"])
    assert from_dir.exit_code == 0, from_dir.output
    both = runner.invoke(app, ["models", "install", "multilingual"])
    assert both.exit_code == 2 and "exactly one of --url and --dir" in both.output
    assert runner.invoke(app, ["models", "install", "argos", "es", "en", "--file",
                               str(es_en_pack)]).exit_code == 0
    listing = runner.invoke(app, ["models", "list"], terminal_width=200)
    assert listing.exit_code == 0, listing.output
    assert "Speech models" in listing.output and "Translation pairs" in listing.output
    lines = listing.output.splitlines()
    assert any("es" in line and "en" in line and "argos:es-en" in line and "CC0-1.0" in line
               for line in lines), listing.output
    assert any("tiny-m2m" in line and "MIT" in line for line in lines)
    assert any("second" in line and "CC-BY-NC-4.0" in line for line in lines)


def test_speech_model_names_still_install(env: Path) -> None:
    """`install NAME` goes to the speech installer (an installed model is kept as it is)."""
    model = env.parent / "tiny.en"
    model.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (model / name).write_text("{}")
    runner = CliRunner()
    for argv in (["tiny.en"], ["speech", "tiny.en"], ["--no-force", "tiny.en"]):
        done = runner.invoke(app, ["models", "install", *argv])
        assert done.exit_code == 0, done.output
        assert f"Installed tiny.en in {model}" in done.output
    shown = runner.invoke(app, ["models", "install", "whisper-base", "--help"])
    assert shown.exit_code == 0 and "tiny.en or whisper-base" in shown.output
