"""Finding, counting and replacing a short pattern in a stream's bytes: by the C library's memmem and
memchr where pip could build `_byte_search.c` (several times quicker over JSON than the bytes methods,
whose search skips poorly where the pattern's letters and quotes are everywhere), by the bytes methods
themselves where it could not. Both answer alike; the needle is never empty, the offsets never negative."""

from __future__ import annotations

from collections.abc import Callable

find: Callable[[bytes, bytes, int, int], int]  # the first needle in haystack[start:end], or -1
count: Callable[[bytes, bytes, int, int], int]  # how many needles, not overlapping, in haystack[start:end]
replace: Callable[[bytes, bytes, bytes], bytes]  # every old, not overlapping, made new

try:
    from anygate.core._byte_search import count, find, replace
except ImportError:  # built without a C compiler
    find, count, replace = bytes.find, bytes.count, bytes.replace
