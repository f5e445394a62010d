"""Canonical stream events: what every upstream stream is parsed into and every client stream is built from.

Text and thinking deltas belong to the current block of their kind; tool calls are numbered by their
order in the turn (`index`), independent of any family's block numbering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from anygate.core.chat import FinishReason
from anygate.core.usage import Usage


@dataclass(slots=True)
class StreamStart:
    """The answer begins; input usage when the upstream reports it this early."""

    id: str
    model: str
    usage: Usage | None = None


@dataclass(slots=True)
class TextDelta:
    """More text; `json` is that text as a JSON string, when the upstream's own bytes for it are at hand."""

    text: str
    json: bytes | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class TextRun:
    """Text deltas in a row, as one read of the upstream brought them: each text, and the upstream's JSON
    string of it (which writers that can take whole, in one join)."""

    texts: list[str]
    strings: list[bytes]

    def deltas(self) -> list[TextDelta]:
        """The run as the text deltas it stands for."""
        return [TextDelta(text, string) for text, string in zip(self.texts, self.strings, strict=True)]


@dataclass(slots=True)
class ThinkingDelta:
    """More reasoning text, or the signature that closes it."""

    text: str = ""
    signature: str | None = None


@dataclass(slots=True)
class ToolCallStart:
    """A tool call begins."""

    index: int
    id: str
    name: str
    signature: str | None = None


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a tool call's JSON arguments."""

    index: int
    arguments: str


@dataclass(slots=True)
class StreamEnd:
    """The answer is complete."""

    finish: FinishReason
    usage: Usage
    stop_sequence: str | None = None


StreamEvent = StreamStart | TextDelta | TextRun | ThinkingDelta | ToolCallStart | ToolCallDelta | StreamEnd
