"""Real aiortc peers against the media router, in one process on loopback."""
