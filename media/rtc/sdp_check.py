"""Validate client SDP and candidates before they touch the peer connection.

aiortc applies a description step by step, so an error half-way can leave a peer half-changed.
Everything a client can get wrong is checked here first and reported as `InvalidSdp` (or
`InvalidCandidate`), which leaves the session as it was.

Client candidates are also judged by the session's `AddressPolicy` before aiortc sees them: a
refused one is dropped from an offer or answer (the rest of the SDP is kept) and refused with
`AddressNotAllowed` when trickled, so the server never sends a check to it or resolves it.
"""

from __future__ import annotations

from typing import Any

from aiortc import sdp

from media.rtc.address_policy import AddressClass, AddressPolicy
from media.rtc.errors import AddressNotAllowed, InvalidCandidate, InvalidSdp
from media.rtc.kinds import MediaKind, is_forwarded_codec
from media.rtc.signals import IceCandidate


def _parse(text: str) -> Any:
    try:
        return sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser raises assorted errors, assertions included
        raise InvalidSdp(f"unparsable SDP: {type(exc).__name__}") from exc


def _sections(description: Any) -> list[tuple[str, str]]:
    return [(m.kind, m.rtp.muxId) for m in description.media]


def _check_media(description: Any) -> None:
    if not description.media:
        raise InvalidSdp("no media sections")
    mids = [m.rtp.muxId for m in description.media]
    if "" in mids or None in mids or len(set(mids)) != len(mids):
        raise InvalidSdp("every media section needs its own a=mid")
    for media in description.media:
        if media.kind not in (MediaKind.AUDIO, MediaKind.VIDEO):
            raise InvalidSdp(f"unsupported media section {media.kind!r}")
        if not media.ice.usernameFragment or not media.ice.password:
            raise InvalidSdp(f"mid {media.rtp.muxId}: ICE ufrag or password missing")
        if media.dtls is None or not media.dtls.fingerprints:
            raise InvalidSdp(f"mid {media.rtp.muxId}: DTLS fingerprint or setup missing")
        if not media.rtcp_mux:
            raise InvalidSdp(f"mid {media.rtp.muxId}: rtcp-mux is required")
        kind = MediaKind(media.kind)
        if not any(is_forwarded_codec(kind, c.mimeType) for c in media.rtp.codecs):
            raise InvalidSdp(f"mid {media.rtp.muxId}: {kind} needs Opus (audio) / VP8 (video)")


def _candidate_refusal(line: str, policy: AddressPolicy) -> AddressClass | None:
    """Why `policy` refuses the candidate on `line`, read as aiortc's parser reads it (None: the
    line is no candidate, is allowed, or is malformed and left for the parser to refuse)."""
    if not line.startswith("a="):
        return None
    attribute, value = sdp.parse_attr(line)
    if attribute != "candidate" or value is None:
        return None
    try:
        candidate = sdp.candidate_from_sdp(value)
    except Exception:
        return None
    return policy.refusal(candidate.ip)


def drop_refused_candidates(text: str, policy: AddressPolicy) -> tuple[str, list[AddressClass]]:
    """`text` without the a=candidate lines `policy` refuses, and why each was dropped.

    Lines are split with `str.splitlines`, as aiortc's parser splits them, so no candidate
    hides from this filter behind an odd line break; `text` comes back unchanged if nothing was
    dropped.
    """
    kept: list[str] = []
    dropped: list[AddressClass] = []
    for line in text.splitlines():
        reason = _candidate_refusal(line, policy)
        if reason is None:
            kept.append(line)
        else:
            dropped.append(reason)
    return ("\r\n".join(kept) + "\r\n", dropped) if dropped else (text, [])


def _check_candidates(description: Any, policy: AddressPolicy) -> None:
    """Belt and braces after `drop_refused_candidates`: the parsed SDP holds no refused one."""
    for media in description.media:
        for candidate in media.ice_candidates:
            if not _valid_port(candidate.port):
                raise InvalidSdp(f"mid {media.rtp.muxId}: a candidate port is not 1 to 65535")
            if not policy.allows(candidate.ip):
                raise InvalidSdp(f"mid {media.rtp.muxId}: a candidate address is not allowed")


def _valid_port(port: int) -> bool:
    """aiortc parses any integer; a port past 65535 made the socket's sendto raise and close the
    peer's ICE transport."""
    return 0 < port <= 65535


def check_offer(text: str, current_remote: str | None, policy: AddressPolicy) -> Any:
    """A client offer: valid media, and the already negotiated m-lines kept in place."""
    description = _parse(text)
    _check_media(description)
    _check_candidates(description, policy)
    if current_remote is not None:
        known = _sections(_parse(current_remote))
        if _sections(description)[: len(known)] != known:
            raise InvalidSdp("an offer must keep the negotiated media sections in order")
    return description


def check_answer(text: str, local_offer: str, policy: AddressPolicy) -> Any:
    """A client answer to the server's pending offer: same m-lines, a definite DTLS role."""
    description = _parse(text)
    _check_media(description)
    _check_candidates(description, policy)
    if _sections(description) != _sections(_parse(local_offer)):
        raise InvalidSdp("the answer's media sections do not match the offer")
    if any(m.dtls.role not in ("client", "server") for m in description.media):
        raise InvalidSdp("an answer needs a=setup:active or a=setup:passive")
    return description


def parse_candidate(candidate: IceCandidate, policy: AddressPolicy) -> Any | None:
    """An aiortc `RTCIceCandidate` whose address `policy` allows, or None for
    end-of-candidates."""
    text = candidate.candidate.strip()
    if not text:
        return None
    if candidate.sdp_mid is None and candidate.sdp_mline_index is None:
        raise InvalidCandidate("a candidate needs sdpMid or sdpMLineIndex")
    try:
        parsed = sdp.candidate_from_sdp(text.removeprefix("a=").removeprefix("candidate:"))
    except Exception as exc:
        raise InvalidCandidate(f"unparsable candidate: {type(exc).__name__}") from exc
    if not _valid_port(parsed.port):
        raise InvalidCandidate("a candidate's port is 1 to 65535")
    refusal = policy.refusal(parsed.ip)
    if refusal is not None:
        raise AddressNotAllowed(f"the server sends no ICE checks to this address ({refusal})")
    parsed.sdpMid = candidate.sdp_mid
    parsed.sdpMLineIndex = candidate.sdp_mline_index
    return parsed
