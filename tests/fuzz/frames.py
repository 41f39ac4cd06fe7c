"""Hypothesis strategies for room socket frames, built from `server/ws/protocol.py`.

`frames(targets)` draws one frame (text or binary) for any client message type: valid
messages with interesting field values (empty, huge, unicode, control characters, lone
surrogates, the ids of real participants and utterances, wrong ids, huge and negative
numbers, nested junk), the same messages mutated (a field dropped, retyped or added, a wrong
version, a mangled type), and frames that are no message at all (bad JSON, binary, oversized,
nested too deeply).
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from server.ws import protocol as p

Frame = str | bytes
Json = dict[str, Any]


def client_types() -> list[str]:
    """Every client message type of the protocol (the tagged union's tags)."""
    union = typing.get_args(p.ClientMessage)[0]
    return [model.model_fields["type"].default for model in typing.get_args(union)]


@dataclass
class Targets:
    """What a frame may name: the room's real participants (the fuzzer's own sockets), extra
    waiting people to admit, deny and remove, real final captions, and a real SDP offer."""

    participants: list[str] = field(default_factory=list)
    decoys: list[str] = field(default_factory=list)
    utterances: list[str] = field(default_factory=list)
    offer_sdp: str = ""


STRINGS = ["", " ", "\x00", "\n\r\t", "\u200b\u200b", "\u202eevil\u202c", "\ufeff", "null",
           "<script>alert(1)</script>", "' OR 1=1 --", "%s%n%x", "../../etc/passwd", "🙂" * 20,
           "a" * 64, "a" * 65, "ko", "vi", "en", "mn", "zz", "EN", "en-US", "x" * 17,
           "Counselor One", "\\", '"', "{}", "[]"]
HUGE_INTS = [2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1]
LANGUAGES = ["ko", "vi", "en", "mn", "th", "zz", "", "x", "EN", "zh-Hant", "pt-BR", "x" * 17]
CANDIDATES = [
    "", "candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host",
    "candidate:1 1 udp 2122260223 169.254.169.254 80 typ host",
    "candidate:2 1 udp 2122260223 127.0.0.1 9 typ host",
    "candidate:3 1 udp 1686052607 203.0.113.7 61000 typ srflx raddr 0.0.0.0 rport 0",
    "candidate:4 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active",
    "candidate:5 1 udp 2122260223 fd00::1 5000 typ host",
    "candidate:6 1 udp 2122260223 abcd.local 5000 typ host",
    "candidate:7 1 udp 99999999999999999999 8.8.8.8 70000 typ host",
    "candidate:x", "a=candidate:1 1 udp 1 1.2.3.4 5 typ host",
]

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(STRINGS),
    st.integers(0, 22_000).map(lambda n: "x" * n),  # around every length limit
    st.characters(categories=["Cs"]).map(lambda c: f"a{c}b"),  # a lone surrogate
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Mn"]), max_size=20),
)
ints = st.one_of(st.integers(-3, 3), st.integers(0, 2**31), st.sampled_from(HUGE_INTS),
                 st.integers())
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(), texts)
junk: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, picked in proportion to its weight."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda k: table[k])


def _ids(real: list[str]) -> st.SearchStrategy[Any]:
    return st.sampled_from(real) if real else texts


def _messages(t: Targets) -> dict[str, st.SearchStrategy[Json]]:
    """For each client message type: its fields, with interesting values."""
    someone = weighted((2, _ids(t.participants)), (10, _ids(t.decoys)), (8, texts))
    utterance = weighted((3, _ids(t.utterances)), (1, texts))
    language = weighted((3, st.sampled_from(LANGUAGES)), (1, texts))
    sdp = weighted((1, st.just(t.offer_sdp or "v=0")), (2, st.just(t.offer_sdp).flatmap(
        _mangled_sdp)), (2, texts))
    fields: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "chat.send": {"client_id": texts, "text": texts},
        "chat.sync": {"after_seq": ints},
        "lobby.admit": {"participant_id": someone},
        "lobby.deny": {"participant_id": someone, "reason": texts},
        "lobby.message": {"participant_id": someone, "text": texts},
        "participant.remove": {"participant_id": someone},
        # True admits the whole lobby (the fuzzer's waiting worker too): rarely
        "room.set_auto_admit": {"enabled": weighted((9, st.just(False)), (1, st.just(True)))},
        "consent.set": {"transcription": st.booleans()},
        "reading.set": {"language": language},
        "ping": {"nonce": texts},
        "rtc.offer": {"sdp": sdp, "restart": st.booleans(), "offer_id": texts},
        "rtc.answer": {"sdp": sdp},
        "rtc.candidate": {"candidate": weighted((3, st.sampled_from(CANDIDATES)), (1, texts)),
                          "sdp_mid": st.one_of(st.none(), st.sampled_from(["0", "1", "x"]),
                                               texts),
                          "sdp_mline_index": st.one_of(st.none(), ints)},
        "interpret.channel": {"language": st.one_of(st.none(), language)},
        "caption.correct": {"utterance_id": utterance, "language": language, "text": texts},
        "captions.sync": {"limit": ints},
        "media.state": {"audio": st.sampled_from(["on", "off", "unavailable", "x"]),
                        "video": st.sampled_from(["on", "off", "unavailable", "x"])},
        # a form id that does not exist, mostly (the fuzz server has no forms loaded)
        "form.push": {"participant_id": someone, "form_id": texts},
        "form.sync": {},
        "leave": {},  # recorded; shown only once all their sockets have closed
    }
    assert set(fields) == set(client_types()), "a client message type has no fuzzer"
    return {kind: st.fixed_dictionaries({"type": st.just(kind), **values},
                                        optional={"v": st.just(1)})
            for kind, values in fields.items()}


def _mangled_sdp(sdp: str) -> st.SearchStrategy[str]:
    lines = sdp.split("\r\n") if sdp else ["v=0"]
    return st.one_of(
        st.integers(0, len(sdp)).map(lambda n: sdp[:n]),
        st.tuples(st.integers(0, len(lines) - 1), texts).map(
            lambda kv: "\r\n".join([*lines[:kv[0]], kv[1], *lines[kv[0] + 1:]])),
        st.sampled_from(CANDIDATES).map(lambda c: sdp + f"a={c}\r\n" if c else sdp),
    )


def _mutated(message: Json) -> st.SearchStrategy[Json]:
    """The message with one thing wrong: a field missing, of a wrong type, or unknown; a
    wrong version; a mangled type."""
    keys = sorted(message)

    def replace(key: str, value: Any) -> Json:
        return {**message, key: value}

    return st.one_of(
        st.sampled_from(keys).map(lambda k: {x: v for x, v in message.items() if x != k}),
        st.tuples(st.sampled_from(keys), junk).map(lambda kv: replace(*kv)),
        st.tuples(st.text(max_size=10), junk).map(lambda kv: replace(*kv)),
        st.one_of(junk, st.sampled_from([0, 2, "1", 1.5, True])).map(lambda v: replace("v", v)),
        texts.map(lambda s: replace("type", message["type"] + s)),
    )


def _encoded(message: Any) -> st.SearchStrategy[Frame]:
    text = json.dumps(message)
    return weighted(
        (12, st.just(text)),
        (1, st.just(text.encode())),  # a binary frame with a valid message
        (1, st.just(text.encode("utf-16"))),
        (1, st.integers(0, max(0, len(text) - 1)).map(lambda n: text[:n])),  # cut short
    )


def _nested(depth: int, where: str) -> str:
    inner = "[" * depth + "]" * depth
    return inner if where == "bare" else f'{{"type": "ping", "nonce": {inner}}}'


not_messages: st.SearchStrategy[Frame] = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60),
    st.sampled_from(["", "null", "[]", "1", '"ping"', "{}", '{"type": 1}', '{"type": null}',
                     '{"type": "ping", "v": 1', "NaN", '{"type": "ping"}' * 2]),
    junk.map(json.dumps),
    st.tuples(st.sampled_from([100, 900, 990, 1000, 3000, 20_000]),
              st.sampled_from(["bare", "field"])).map(lambda dw: _nested(*dw)),
    st.integers(16 * 1024 - 40, 70_000).map(  # around and over the frame size limit
        lambda n: json.dumps({"type": "chat.send", "client_id": "big", "text": "x" * n})),
)


def frames(targets: Targets) -> st.SearchStrategy[Frame]:
    """One frame a client might send: mostly messages of every type, valid or nearly."""
    messages = st.one_of(*_messages(targets).values())
    return weighted(
        (6, messages.flatmap(_encoded)),
        (2, messages.flatmap(_mutated).flatmap(_encoded)),
        (1, texts.map(lambda kind: {"type": kind}).flatmap(_encoded)),  # unknown types
        (1, not_messages),
    )

