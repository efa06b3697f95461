"""The fault suite leaves no ffmpeg behind either (see tests/ffmpeg_guard.py)."""

from ffmpeg_guard import no_ffmpeg_left_behind

__all__ = ["no_ffmpeg_left_behind"]
