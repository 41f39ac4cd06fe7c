"""Every interface catalog has every message of the code as it is now (a fresh extraction, so a
new string anywhere without its translations fails here), with the same %(name)s placeholders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from server.locale import UI_LOCALES

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "i18n.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _script()


def test_the_catalogs_cover_every_interface_language(script: ModuleType) -> None:
    assert set(script.LOCALES) == set(UI_LOCALES) - {"en"}


def test_no_catalog_misses_a_string_or_changes_a_placeholder(script: ModuleType) -> None:
    templates = {domain: script.extract(domain) for domain in script.DOMAINS}
    assert len(templates["messages"]) > 100 and len(templates["js"]) > 20
    problems = script.all_problems(templates)
    assert not problems, "\n".join(str(p) for p in problems[:40]) + (
        f"\n… {len(problems)} in all; `python scripts/i18n.py missing` lists them")


def test_a_changed_placeholder_is_caught(script: ModuleType, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from babel.messages.catalog import Catalog

    template = Catalog()
    template.add("Hello %(name)s", flags=("python-format",))
    po = tmp_path / "ko" / "LC_MESSAGES" / "messages.po"
    broken = Catalog(locale="ko")
    broken.add("Hello %(name)s", "안녕하세요 %(nom)s")
    script.write(po, broken)
    monkeypatch.setattr(script, "LOCALE_DIR", tmp_path)
    found = list(script.problems("ko", "messages", template))
    assert [p.what.split(" ")[0] for p in found] == ["placeholders"]
    assert found[0].msgid == "Hello %(name)s"

