"""The help chatbot's answer time over the hall's shipped content, for bench/forms.py.

`seed_hall` loads the shipped example pages (server/hall/examples) into the benchmark's
database; `measure_chatbot` asks the running server (`POST /hall/ask`, one question at a time,
as people do) the questions of tests/app/test_hall.py that the pages answer and a few they do
not, `ROUNDS` times, after one warm-up question (the first question builds the node's search
index). Latency is from sending the question to having the answer; `chatbot_answer_p50_ms`
is its median."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx

from rooms.db import make_engine, make_sessionmaker
from server.hall.examples import load_examples
from server.settings import Settings

ROUNDS = 5
CHATBOT_ENV = {"COUNSEL_HALL_ASK_LIMIT_PER_ADDRESS": "1000000 per minute"}
"""The benchmark asks from one address faster than people do: lift the per-address limit."""
QUESTIONS = [
    ("How do I apply for vocational training?", "en"),
    ("Can my employer take part in the return-to-work plan?", "en"),
    ("Who helps me write a résumé?", "en"),
    ("Can I practise job interviews?", "en"),
    ("How long is the follow-up after I return to work?", "en"),
    ("Is psychological counseling free?", "en"),
    ("Which occupations does the system suggest?", "en"),
    ("직업훈련은 어떻게 신청하나요?", "ko"),
    ("심리상담은 무료인가요?", "ko"),
    ("사업주도 상담에 참여할 수 있나요?", "ko"),
    ("복귀 후 사후관리는 얼마 동안 하나요?", "ko"),
    ("이력서 작성을 도와주나요?", "ko"),
    ("What is the capital of France?", "en"),
    ("Recommend a good pizza place near the station", "en"),
    ("오늘 날씨 어때요?", "ko"),
]


async def seed_hall(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await load_examples(session)
    finally:
        await engine.dispose()


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] * 1000, 2)


async def _ask(client: httpx.AsyncClient, question: str, language: str
               ) -> tuple[float, bool] | None:
    started = time.perf_counter()
    response = await client.post("/hall/ask", json={"question": question, "language": language})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        return None
    return elapsed, bool(response.json().get("answered"))


async def measure_chatbot(client: httpx.AsyncClient) -> dict[str, Any]:
    await _ask(client, *QUESTIONS[0])
    latencies: list[float] = []
    answered = failed = 0
    for _ in range(ROUNDS):
        for question, language in QUESTIONS:
            result = await _ask(client, question, language)
            if result is None:
                failed += 1
                continue
            latencies.append(result[0])
            answered += result[1]
    return {
        "chatbot_questions": len(latencies) + failed,
        "chatbot_answered": answered,
        "chatbot_failed": failed,
        "chatbot_answer_p50_ms": _percentile(latencies, 50),
        "chatbot_answer_p90_ms": _percentile(latencies, 90),
    }
