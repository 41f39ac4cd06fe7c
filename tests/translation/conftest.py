"""Small deterministic packs and models, built once per session (tests/translation/packbuild.py)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.translation.packbuild import build_multilingual, build_pack

ES_EN = {"hola": "hello", "me llamo": "my name is", "amigo": "friend", "gracias": "thank you",
         "buenos días": "good morning", "tengo": "I have", "una pregunta": "a question"}
EN_DE = {"hello": "hallo", "my name is": "ich heiße", "friend": "Freund",
         "thank you": "danke", "good morning": "guten Morgen", "I have": "ich habe",
         "a question": "eine Frage"}
ROWS = [
    {"en": "hello", "es": "hola", "de": "hallo", "fr": "bonjour"},
    {"en": "friend", "es": "amigo", "de": "Freund", "fr": "ami"},
    {"en": "thank you", "es": "gracias", "de": "danke", "fr": "merci"},
]


@pytest.fixture(scope="session", autouse=True)
def _argos_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """argostranslate creates and reads its directories under $XDG_*: keep them in tmp."""
    home = tmp_path_factory.mktemp("argos-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            patch.setenv(name, str(home / name.lower()))
        yield


@pytest.fixture(scope="session")
def packs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("packs")


@pytest.fixture(scope="session")
def es_en_pack(packs_dir: Path) -> Path:
    return build_pack(packs_dir, "es", "en", ES_EN)


@pytest.fixture(scope="session")
def en_de_pack(packs_dir: Path) -> Path:
    return build_pack(packs_dir, "en", "de", EN_DE, splitter=False)


@pytest.fixture(scope="session")
def m2m_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_multilingual(tmp_path_factory.mktemp("m2m") / "tiny-m2m", ROWS)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real HTTP server on 127.0.0.1:<free port> serving a fresh directory: (dir, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
