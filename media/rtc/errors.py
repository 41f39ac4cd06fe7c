"""Project errors of the WebRTC media core; the server maps each `code` to a typed wire error."""

from __future__ import annotations

from typing import ClassVar


class MediaError(Exception):
    """Base of every error raised by `media.rtc`."""

    code: ClassVar[str] = "media_error"


class SignalingError(MediaError):
    """A signaling message was refused; the peer session is unchanged and still usable."""

    code = "signaling_error"


class InvalidSdp(SignalingError):
    """The SDP could not be parsed or is not acceptable (codecs, ICE/DTLS attributes, m-lines)."""

    code = "invalid_sdp"


class OutOfOrderSignal(SignalingError):
    """The message does not fit the signaling state (e.g. an answer when no offer is pending)."""

    code = "out_of_order"


class SignalingGlare(OutOfOrderSignal):
    """The client offered while the server's own offer was pending: the server is impolite.

    The client (polite side) rolls back its offer, answers the server's, and offers again later.
    """

    code = "glare"


class InvalidCandidate(SignalingError):
    """An ICE candidate could not be parsed or arrived after end-of-candidates."""

    code = "invalid_candidate"


class AddressNotAllowed(InvalidCandidate):
    """A trickled candidate names an address the server does not send ICE checks to (private,
    link-local, metadata, a host name...; see `media.rtc.address_policy`). It is dropped."""

    code = "address_not_allowed"


class SessionClosed(MediaError):
    """The peer session is closed."""

    code = "session_closed"


class UnknownParticipant(MediaError):
    """The room's media router holds no session for this participant."""

    code = "unknown_participant"


class DuplicateParticipant(MediaError):
    """The participant already has a peer session in this router."""

    code = "duplicate_participant"


class UnsupportedAiortc(MediaError):
    """The installed aiortc lacks an internal this package hooks (see `media.rtc._aiortc`)."""

    code = "unsupported_aiortc"
