"""Words for the hall's search index, in any language, with no language model to install.

Scripts written with spaces between words (Latin, Cyrillic, Vietnamese…) are cut into words,
lower-cased; words in the Latin alphabet go through the Snowball English stemmer (PyStemmer),
so "suggested" finds "suggests" and "interviews" finds "interview".
Scripts written without spaces between words, or whose words carry endings (Korean, Chinese,
Japanese, Thai, Khmer, Burmese), are cut into overlapping pairs of characters inside each run:
``직업훈련을`` gives 직업, 업훈, 훈련, so ``직업훈련`` in a question finds ``직업훈련을`` in a
page (a character bigram index, the usual way to search such text without a dictionary). A
Korean particle or ending of 하다 closing a word (을, 는, 에서, 하나요…) is taken off first,
so it makes no pair.
Stopwords (bm25s's English list, words that frame a question in English and in Korean) count
for nothing."""

from __future__ import annotations

import re
import unicodedata

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

_RUN = re.compile(r"\w+", re.UNICODE)
_NO_SPACES = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\u0e00-\u0e7f\u1780-\u17ff\u1000-\u109f]+")
_LATIN = re.compile(r"[a-z\u00c0-\u024f]+")
_PARTICLE = re.compile("(?:하나요|합니까|합니다|하려면|할까요|하면|해요|해야|하는|하고|하여|해서"
                       "|에서|에게|으로|까지|부터|이나|은|는|이|가|을|를|에|의|도|로|와|과)$")
QUESTION_WORDS = {"how", "what", "when", "where", "who", "whom", "which", "why", "can",
                  "could", "do", "does", "did", "i", "my", "me", "get", "is", "are", "there",
                  "tell", "about", "please", "would", "should", "want", "need", "know", "much",
                  "long", "many", "often", "help"}
KOREAN_QUESTION = {"어떻", "떻게", "무엇", "엇인", "엇을", "인가", "가요", "나요", "하나", "있나",
                   "습니", "니까", "까요", "되나", "할까", "인지", "는지", "은지", "세요", "해요",
                   "알려", "려주", "주세", "도와", "와주", "주나", "싶어", "어요", "싶습", "언제",
                   "누가", "어디", "디서", "얼마", "동안"}
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | QUESTION_WORDS | KOREAN_QUESTION
_STEMMER = Stemmer.Stemmer("english")


def _pairs(run: str) -> list[str]:
    if len(run) > 2:
        run = _PARTICLE.sub("", run)
    return [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]


def tokenize(text: str) -> list[str]:
    words: list[str] = []
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        for piece in _NO_SPACES.findall(run):
            words += _pairs(piece)
        for word in _NO_SPACES.split(run):
            if word and not word.isdigit() and word not in STOPWORDS:
                words.append(_STEMMER.stemWord(word) if _LATIN.fullmatch(word) else word)
    return [w for w in words if w not in STOPWORDS]
