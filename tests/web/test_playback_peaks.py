"""Peaks for peaks.js, computed on the server in bins, streaming (no Django, no media)."""

import numpy as np

from taspa.web.playback import bin_peaks, mix_filter, samples_per_pixel, waveform_json


def chunks_of(samples: np.ndarray, size: int):
    raw = samples.astype("<i2").tobytes()
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def test_bins_hold_min_and_max_as_8_bit_whatever_the_chunking():
    samples = np.array([0, 256, -256, 32767, -32768, 512, 0, 0, 100], dtype=np.int16)
    # bins of 2 samples, the last one short: 16-bit values shifted to 8 bits
    expected = [0, 1, -1, 127, -128, 2, 0, 0, 0, 0]
    for size in (2, 6, 100):  # bytes per chunk read from ffmpeg's pipe
        assert bin_peaks(chunks_of(samples, size), 2) == expected


def test_waveform_json_is_audiowaveform_version_2():
    answer = waveform_json([-1, 1, -2, 2], 256)
    assert answer == {
        "version": 2,
        "channels": 1,
        "sample_rate": 8000,
        "samples_per_pixel": 256,
        "bits": 8,
        "length": 2,
        "data": [-1, 1, -2, 2],
    }


def test_hours_get_coarse_bins_and_minutes_fine_ones():
    assert samples_per_pixel(6.0) == 32
    assert samples_per_pixel(6 * 3600) == 256
    assert samples_per_pixel(None) == 32


def test_several_microphones_are_mixed_and_pause_gaps_filled():
    graph = mix_filter(2, 8000)
    assert "[0:a:0][0:a:1]amix=inputs=2" in graph and "async=1" in graph
    assert mix_filter(1, 8000).startswith("[0:a:0]aresample=8000:async=1")
