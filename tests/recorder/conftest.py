"""Recorder tests leave no ffmpeg behind (see tests/ffmpeg_guard.py)."""

from ffmpeg_guard import no_ffmpeg_left_behind

__all__ = ["no_ffmpeg_left_behind"]
