"""S3 part plans (R23): pure rules, one row per case."""

import pytest

from taspa.replication.policy import (
    MAX_PARTS,
    MiB,
    missing_parts,
    part_count,
    part_size_for,
    part_span,
)


@pytest.mark.parametrize(
    ("total", "size"),
    [
        (0, 8 * MiB),  # an empty file is one empty part
        (20 * MiB, 8 * MiB),
        (8 * MiB * MAX_PARTS, 8 * MiB),  # the largest file 8 MiB parts can carry
        (8 * MiB * MAX_PARTS + 1, 9 * MiB),  # one byte more: whole MiB larger parts
    ],
)
def test_r23_part_size_keeps_within_s3_limits(total, size):
    assert part_size_for(total) == size
    assert part_count(total, size) <= MAX_PARTS


@pytest.mark.parametrize(
    ("number", "span"),
    [(1, (0, 8 * MiB)), (2, (8 * MiB, 8 * MiB)), (3, (16 * MiB, 4 * MiB))],
)
def test_r23_part_spans_cover_the_file(number, span):
    assert part_span(number, 20 * MiB, 8 * MiB) == span


@pytest.mark.parametrize(
    ("held", "missing"),
    [
        ({}, [1, 2, 3]),
        ({1: 8 * MiB}, [2, 3]),  # a break after part 1: resume at part 2
        ({1: 8 * MiB, 3: 4 * MiB}, [2]),  # a gap is filled, nothing else resent
        ({1: 8 * MiB, 2: 5 * MiB, 3: 4 * MiB}, [2]),  # a part of the wrong size is resent
        ({1: 8 * MiB, 2: 8 * MiB, 3: 4 * MiB}, []),
    ],
)
def test_r23_missing_parts_resume_at_the_next_part(held, missing):
    assert missing_parts(held, 20 * MiB, 8 * MiB) == missing


def test_r23_an_empty_file_is_one_empty_part():
    assert missing_parts({}, 0, 8 * MiB) == [1]
    assert missing_parts({1: 0}, 0, 8 * MiB) == []
