"""The one ``chunks``: REDCap import batches and outreach windows."""

from __future__ import annotations

from recruit_cli.chunks import chunks


def test_chunks() -> None:
    assert [list(b) for b in chunks([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    assert [list(b) for b in chunks([1, 2], 5)] == [[1, 2]]
    assert list(chunks([], 3)) == []
    assert [list(b) for b in chunks([1, 2], 0)] == [[1], [2]]  # never an endless loop
