"""Importing translation is light: no argostranslate, torch, stanza or engines."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_translation_loads_no_heavy_module() -> None:
    code = ("import json, sys, translation, translation.packs, translation.service;"
            "heavy = ('argostranslate', 'torch', 'stanza', 'spacy', 'ctranslate2',"
            " 'sentencepiece', 'server', 'rooms', 'media');"
            "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(done.stdout) == []
