"""The compiled byte searches (anygate/core/_byte_search.c) answer as the bytes methods they stand in
for, on any bytes: the stream relays count, find and rename with them."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REQUIRE_SERVICES


def _compiled() -> ModuleType:
    try:
        from anygate.core import _byte_search
    except ImportError:
        missing = (
            "the compiled byte search (anygate/core/_byte_search.c) is not built: `pip install -e .` builds it with a C compiler"
        )
        if REQUIRE_SERVICES:
            pytest.fail(f"{missing}; ANYGATE_REQUIRE_SERVICES=1 says it must be")
        pytest.skip(missing)
    return _byte_search


# few letters, so that needles are found often, at the edges and next to each other
_bytes = st.binary(max_size=40).map(lambda b: bytes(98 + c % 3 if c % 5 else 10 for c in b))
_needle = _bytes.filter(bool).map(lambda b: b[:4])


@given(haystack=_bytes, needle=_needle, start=st.integers(0, 45), end=st.integers(0, 45))
def test_find_and_count_answer_as_the_bytes_methods(haystack: bytes, needle: bytes, start: int, end: int) -> None:
    compiled = _compiled()
    assert compiled.find(haystack, needle, start, end) == haystack.find(needle, start, end)
    assert compiled.count(haystack, needle, start, end) == haystack.count(needle, start, end)


@given(haystack=_bytes, old=_needle, new=_bytes.map(lambda b: b[:6]))
def test_replace_answers_as_the_bytes_method(haystack: bytes, old: bytes, new: bytes) -> None:
    assert _compiled().replace(haystack, old, new) == haystack.replace(old, new)


@pytest.mark.parametrize(
    ("haystack", "needle", "start", "end", "found", "counted"),
    [
        (b"data: a\n\ndata: b\n\n", b"\n\n", 0, 18, 7, 2),
        (b"data: a\n\ndata: b\n\n", b"\n\n", 8, 18, 16, 1),  # a blank line begun before `start` is not one
        (b"data: a\n\n\n", b"\n\n", 0, 10, 7, 1),  # three line ends are one blank line, not two
        (b"aaaa", b"aa", 0, 4, 0, 2),
        (b"abc", b"c", 0, 2, -1, 0),  # the end bounds the needle's last byte too
        (b"abc", b"c", 1, 99, 2, 1),  # an end past the bytes reads as their length
        (b"abc", b"a", 4, 9, -1, 0),
        (b'{"usage":{"x":1}}', b'"usage":{', 0, 17, 1, 1),
    ],
)
def test_finds_and_counts_at_the_edges(haystack: bytes, needle: bytes, start: int, end: int, found: int, counted: int) -> None:
    compiled = _compiled()
    assert (compiled.find(haystack, needle, start, end), compiled.count(haystack, needle, start, end)) == (found, counted)


def test_replace_grows_shrinks_and_keeps_the_object_when_nothing_matches() -> None:
    compiled = _compiled()
    chunk = b'{"model":"up"}\n\n{"model":"up"}\n\n'
    assert compiled.replace(chunk, b'"model":"up"', b'"model":"public-name"') == chunk.replace(b'"up"', b'"public-name"')
    assert compiled.replace(chunk, b'"model":"up"', b'"m"') == b'{"m"}\n\n{"m"}\n\n'
    assert compiled.replace(chunk, b"zz", b"y") is chunk


@pytest.mark.parametrize("call", ["find", "count"])
def test_an_empty_needle_or_a_negative_offset_is_refused(call: str) -> None:
    search = getattr(_compiled(), call)
    with pytest.raises(ValueError, match="empty"):
        search(b"abc", b"", 0, 3)
    with pytest.raises(ValueError, match="negative"):
        search(b"abc", b"a", -1, 3)
