"""Keep a connection's payload types and RTP header extension ids across server re-offers.

aiortc numbers codecs and header extensions its own way in every offer it creates (Opus 96,
VP8 97, VP8's RTX 98; ``sdes:mid`` 1, ...), whatever the connection negotiated before. A browser's
first offer numbers them its own way (Chromium: Opus 111, VP8 96, RTX 97; ``sdes:mid`` 4), and the
server's answer keeps those numbers. Left alone, the server's first re-offer would then move them:

* Chromium refuses moved extension ids ("RTP extension ID reassignment not supported");
* Chromium accepts moved payload types and from then on sends its own audio and video under the
  new numbers (Opus as 96, which was its VP8), but aiortc registered its receivers once, with the
  first numbers, and drops every packet whose payload type does not match: the browser's media
  stops reaching the server the moment someone joins after it.

`keep_numbering` rewrites an aiortc offer so that every codec and extension the connection already
numbered keeps its number, on every m-line (one number per codec in the whole BUNDLE group, as
browsers do), and the others get numbers the connection does not use. aiortc's transceivers must
then agree with the rewritten SDP (`_aiortc.renumber_transceivers`): a receiver that starts before
the answer arrives registers the payload types it finds there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_RTPMAP = re.compile(r"^a=rtpmap:(\d+) ([^/\s]+)/(\d+)(?:/(\d+))?", re.MULTILINE)
_APT = re.compile(r"^a=fmtp:(\d+) (?:.*;)?apt=(\d+)", re.MULTILINE)
_MEDIA = re.compile(r"^m=(\S+ \S+ \S+)((?: \S+)*)", re.MULTILINE)
_PT_ATTRIBUTE = re.compile(r"^a=(rtpmap|fmtp|rtcp-fb):(\d+)\b", re.MULTILINE)
_APT_VALUE = re.compile(r"^(a=fmtp:\d+ (?:.*;)?apt=)(\d+)", re.MULTILINE)
_EXTMAP = re.compile(r"^a=extmap:(\d+)(/\w+)? (\S+)", re.MULTILINE)

_DYNAMIC_PAYLOAD_TYPES: tuple[int, ...] = (*range(96, 128), *range(35, 64))
_EXTENSION_IDS = range(1, 15)  # one-byte header extensions

CodecKey = tuple[str, ...]
"""A codec as SDP names it: encoding name (lower case), clock rate, channels; RTX adds the key of
the codec it repairs."""


@dataclass(frozen=True, slots=True)
class Numbering:
    sdp: str
    """The offer with the connection's numbers."""
    payload_types: dict[int, int]
    """The offer's payload types (aiortc's) to the ones `sdp` uses."""
    extension_ids: dict[str, int]
    """Header extension URI to the id `sdp` uses."""


def keep_numbering(offer: str, negotiated: str) -> Numbering:
    """`offer` (made by aiortc) with the payload types and extension ids of `negotiated`."""
    payload_types = _payload_type_map(offer, negotiated)
    extension_ids = _extension_id_map(offer, negotiated)
    sdp = "".join(_renumber_section(s, payload_types) for s in _sections(offer))

    def renumber_extension(match: re.Match[str]) -> str:
        uri = match.group(3)
        return f"a=extmap:{extension_ids[uri]}{match.group(2) or ''} {uri}"

    return Numbering(_EXTMAP.sub(renumber_extension, sdp), payload_types, extension_ids)


# -- payload types ---------------------------------------------------------------------------


def _sections(sdp: str) -> Iterator[str]:
    """The session part, then each media section (each from its ``m=`` line)."""
    starts = [0, *(m.start() for m in _MEDIA.finditer(sdp))]
    for begin, end in zip(starts, [*starts[1:], len(sdp)], strict=True):
        if end > begin:
            yield sdp[begin:end]


def _codec_keys(section: str) -> dict[int, CodecKey]:
    """Payload type to codec, for the codecs one media section maps."""
    named: dict[int, CodecKey] = {
        int(pt): (name.lower(), clock, channels or "1")
        for pt, name, clock, channels in _RTPMAP.findall(section)
    }
    repairs = {int(pt): int(apt) for pt, apt in _APT.findall(section)}
    keys: dict[int, CodecKey] = {}
    for pt, key in named.items():
        if key[0] == "rtx":
            base = named.get(repairs.get(pt, -1))
            if base is None:
                continue  # an RTX that repairs nothing here: left as it is
            key = (*key, *base)
        keys[pt] = key
    return keys


def _payload_type_map(offer: str, negotiated: str) -> dict[int, int]:
    kept: dict[CodecKey, int] = {}
    used: set[int] = set()
    for section in _sections(negotiated):
        for pt, key in _codec_keys(section).items():
            kept.setdefault(key, pt)
        media = _MEDIA.match(section)
        if media is not None:
            used.update(int(f) for f in media.group(2).split() if f.isdigit())

    mapping: dict[int, int] = {}
    for section in _sections(offer):
        for pt, key in _codec_keys(section).items():
            if key not in kept:  # new to the connection: its own number if that is free
                kept[key] = pt if pt not in used else _unused(used)
                used.add(kept[key])
            if mapping.setdefault(pt, kept[key]) != kept[key]:
                raise ValueError(f"the offer uses payload type {pt} for two codecs")
    return mapping


def _unused(used: set[int]) -> int:
    return next(p for p in _DYNAMIC_PAYLOAD_TYPES if p not in used)


def _renumber_section(section: str, mapping: dict[int, int]) -> str:
    def pt(value: str) -> str:
        return str(mapping.get(int(value), int(value)))

    def media_line(match: re.Match[str]) -> str:
        formats = "".join(f" {pt(f) if f.isdigit() else f}" for f in match.group(2).split())
        return f"m={match.group(1)}{formats}"

    section = _MEDIA.sub(media_line, section, count=1)
    section = _PT_ATTRIBUTE.sub(lambda m: f"a={m.group(1)}:{pt(m.group(2))}", section)
    return _APT_VALUE.sub(lambda m: f"{m.group(1)}{pt(m.group(2))}", section)


# -- header extensions -----------------------------------------------------------------------


def _extension_id_map(offer: str, negotiated: str) -> dict[str, int]:
    ids: dict[str, int] = {}
    for id_, _, uri in _EXTMAP.findall(negotiated):
        ids.setdefault(uri, int(id_))
    free = (i for i in _EXTENSION_IDS if i not in ids.values())
    for _, _, uri in _EXTMAP.findall(offer):
        if uri not in ids:
            ids[uri] = next(free)
    return ids
