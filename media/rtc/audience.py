"""Who receives whose media in a room: everyone everyone else's, except interpreters' voices.

An interpreter speaks into one language channel at a time; their audio reaches only the
listeners whose listening language is that channel's, and nobody while they have no channel (an
interpreter listens by default). Their video, if they send any, goes to everyone like anyone
else's. A listener's language is the language they read the room in, kept here by the server.
"""

from __future__ import annotations

from media.rtc.kinds import MediaKind


class Audience:
    def __init__(self) -> None:
        self._listening: dict[str, str] = {}
        self._channels: dict[str, str | None] = {}

    def set_listening(self, participant_id: str, language: str) -> bool:
        """`participant_id` listens in `language`; False if they already did."""
        if self._listening.get(participant_id) == language:
            return False
        self._listening[participant_id] = language
        return True

    def set_channel(self, participant_id: str, language: str | None) -> bool:
        """Make `participant_id` an interpreter speaking into `language` (None: to nobody);
        False if they already were."""
        if self.is_interpreter(participant_id) and self._channels[participant_id] == language:
            return False
        self._channels[participant_id] = language
        return True

    def forget(self, participant_id: str) -> None:
        self._listening.pop(participant_id, None)
        self._channels.pop(participant_id, None)

    def is_interpreter(self, participant_id: str) -> bool:
        return participant_id in self._channels

    def channel(self, participant_id: str, kind: MediaKind) -> str | None:
        """The language channel that `participant_id`'s media of `kind` is interpretation for."""
        if kind is not MediaKind.AUDIO:
            return None
        return self._channels.get(participant_id)

    def receives(self, listener_id: str, publisher_id: str, kind: MediaKind) -> bool:
        if listener_id == publisher_id:
            return False
        if kind is not MediaKind.AUDIO or publisher_id not in self._channels:
            return True
        channel = self._channels[publisher_id]
        return channel is not None and self._listening.get(listener_id) == channel
