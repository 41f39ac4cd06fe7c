"""Speech recognition tests: real Whisper models, real espeak-ng speech."""
