"""The messages of the pool's job streams: speech jobs carry PCM audio and get transcripts;
text jobs carry texts to translate (on workers that have translation models) and get texts."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from redis.typing import EncodableT, FieldT

from media.speech.audio import FloatAudio, to_float32
from media.speech.transcript import Segment, Transcript

Fields = dict[bytes, bytes]
StreamFields = dict[FieldT, EncodableT]


@dataclass(frozen=True, slots=True)
class StreamKeys:
    """Redis keys of one pool: the job stream, its consumer group, and reply streams."""

    prefix: str = "counsel:asr"

    @property
    def jobs(self) -> str:
        return f"{self.prefix}:jobs"

    @property
    def group(self) -> str:
        return f"{self.prefix}:workers"

    def replies(self, client_id: str) -> str:
        return f"{self.prefix}:replies:{client_id}"


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    reply_to: str
    audio: FloatAudio
    language: str | None
    beam_size: int | None
    task: str
    deadline: float | None  # unix time after which nobody waits for the result

    def encode(self) -> StreamFields:
        pcm = np.clip(self.audio * 32768.0, -32768, 32767).astype("<i2").tobytes()
        return {
            "id": self.job_id,
            "reply_to": self.reply_to,
            "pcm16": pcm,
            "language": self.language or "",
            "beam_size": str(self.beam_size or ""),
            "task": self.task,
            "deadline": "" if self.deadline is None else repr(self.deadline),
        }

    @classmethod
    def decode(cls, fields: Fields) -> Job:
        text = {k.decode(): v.decode() for k, v in fields.items() if k != b"pcm16"}
        audio = to_float32(np.frombuffer(fields[b"pcm16"], "<i2").astype(np.int16))
        return cls(
            job_id=text["id"],
            reply_to=text["reply_to"],
            audio=audio,
            language=text["language"] or None,
            beam_size=int(text["beam_size"]) if text["beam_size"] else None,
            task=text["task"],
            deadline=float(text["deadline"]) if text["deadline"] else None,
        )

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.time() > self.deadline


@dataclass(frozen=True, slots=True)
class TextJob:
    """Texts to translate from ``source`` into ``target``: the translation of captions and
    chat done by the pool's (GPU) workers."""

    job_id: str
    reply_to: str
    texts: tuple[str, ...]
    source: str
    target: str
    deadline: float | None

    def encode(self) -> StreamFields:
        return {
            "kind": "text",
            "id": self.job_id,
            "reply_to": self.reply_to,
            "texts": json.dumps(list(self.texts)),
            "source": self.source,
            "target": self.target,
            "deadline": "" if self.deadline is None else repr(self.deadline),
        }

    @classmethod
    def decode(cls, fields: Fields) -> TextJob:
        text = {k.decode(): v.decode() for k, v in fields.items()}
        texts = json.loads(text["texts"])
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError("a text job's texts are a list of strings")
        return cls(text["id"], text["reply_to"], tuple(texts), text["source"], text["target"],
                   float(text["deadline"]) if text["deadline"] else None)

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.time() > self.deadline


def decode_job(fields: Fields) -> Job | TextJob:
    """A job of the stream, by its kind (entries without one are speech jobs)."""
    if fields.get(b"kind") == b"text":
        return TextJob.decode(fields)
    return Job.decode(fields)


def encode_texts(job_id: str, texts: list[str]) -> StreamFields:
    return {"id": job_id, "ok": "1", "body": json.dumps({"texts": texts})}


def encode_result(job_id: str, transcript: Transcript) -> StreamFields:
    body = {
        "text": transcript.text,
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "duration": transcript.duration,
        "segments": [[s.start, s.end, s.text, s.compression_ratio] for s in transcript.segments],
    }
    return {"id": job_id, "ok": "1", "body": json.dumps(body)}


def encode_error(job_id: str, message: str, *, retryable: bool) -> StreamFields:
    body = {"error": message, "retryable": retryable}
    return {"id": job_id, "ok": "0", "body": json.dumps(body)}


@dataclass(frozen=True, slots=True)
class Reply:
    job_id: str
    transcript: Transcript | None
    error: str | None = None
    retryable: bool = False
    texts: tuple[str, ...] | None = None
    """A text job's translations."""

    @classmethod
    def decode(cls, fields: Fields) -> Reply:
        job_id = fields[b"id"].decode()
        body: dict[str, Any] = json.loads(fields[b"body"])
        if fields[b"ok"] != b"1":
            return cls(job_id, None, str(body["error"]), bool(body["retryable"]))
        if "texts" in body:
            return cls(job_id, None, texts=tuple(str(t) for t in body["texts"]))
        segments = tuple(Segment(*row) for row in body["segments"])
        transcript = Transcript(
            body["text"],
            body["language"],
            body["language_probability"],
            segments,
            body["duration"],
        )
        return cls(job_id, transcript)
