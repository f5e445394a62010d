"""Finding a request's handler: fixed paths by one dictionary lookup, paths with parameters (written as
aiohttp writes them: `{name}` for one segment, `{name:regex}`) by their patterns, in the order added.
A GET route answers HEAD too; a path no route has (or none for its method) goes to the fallback."""

from __future__ import annotations

import re
from urllib.parse import unquote

from anygate.server.web import Handler, Request

_PARAMETER = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}")


def compile_path(path: str) -> re.Pattern[str]:
    """The pattern of a route's path: a `{name}` matches one segment, `{name:regex}` its regex."""
    parts: list[str] = []
    done = 0
    for parameter in _PARAMETER.finditer(path):
        parts.append(re.escape(path[done : parameter.start()]))
        parts.append(f"(?P<{parameter.group(1)}>{parameter.group(2) or '[^{}/]+'})")
        done = parameter.end()
    parts.append(re.escape(path[done:]))
    return re.compile("".join(parts))


class Router:
    """The route table."""

    def __init__(self, fallback: Handler) -> None:
        self._fixed: dict[tuple[str, str], Handler] = {}
        self._patterns: list[tuple[str, re.Pattern[str], Handler]] = []
        self._fallback = fallback

    def add(self, method: str, path: str, answer: Handler) -> None:
        """Route `method` (GET also routes HEAD) on `path` to `answer`."""
        methods = (method, "HEAD") if method == "GET" else (method,)
        for each in methods:
            if _PARAMETER.search(path):
                self._patterns.append((each, compile_path(path), answer))
            else:
                self._fixed.setdefault((each, path), answer)

    def resolve(self, request: Request) -> Handler:
        """The handler of `request`, its path parameters set in `request.match_info` (decoded)."""
        fixed = self._fixed.get((request.method, request.path))
        if fixed is not None:
            return fixed
        raw = request.raw_path.partition("?")[0]
        for method, pattern, answer in self._patterns:
            if method == request.method and (found := pattern.fullmatch(raw)) is not None:
                request.match_info = {name: unquote(value) for name, value in found.groupdict().items()}
                return answer
        return self._fallback
