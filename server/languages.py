"""Languages people can choose on joining (names in their own language)."""

from __future__ import annotations

LANGUAGES: dict[str, str] = {
    "ko": "한국어 (Korean)",
    "en": "English",
    "vi": "Tiếng Việt (Vietnamese)",
    "zh": "中文 (Chinese)",
    "ne": "नेपाली (Nepali)",
    "uz": "Oʻzbekcha (Uzbek)",
    "id": "Bahasa Indonesia",
    "th": "ไทย (Thai)",
    "tl": "Filipino",
    "km": "ខ្មែរ (Khmer)",
    "mn": "Монгол (Mongolian)",
    "si": "සිංහල (Sinhala)",
    "my": "မြန်မာ (Burmese)",
    "ru": "Русский (Russian)",
    "es": "Español (Spanish)",
    "fr": "Français (French)",
    "de": "Deutsch (German)",
    "pt": "Português (Portuguese)",
    "it": "Italiano (Italian)",
}


def is_supported(code: str) -> bool:
    return code in LANGUAGES
