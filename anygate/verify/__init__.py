"""`anygate verify`: AnyInt's "Verify Your Integration" guide, step by step, against a running gateway."""

from __future__ import annotations

import time
from dataclasses import dataclass

from anygate.verify.checks import Checklist, Options
from anygate.verify.http import Client, Failed, Skipped

__all__ = ["Options", "Result", "run"]


@dataclass(slots=True)
class Result:
    """One step's outcome, with what it sent and what it expected."""

    name: str
    outcome: str  # PASS, FAIL or SKIP
    detail: str
    ms: float
    sent: str
    expected: str


def run(base_url: str, key: str, options: Options) -> list[Result]:
    """Run every step; one Result each."""
    checklist = Checklist(Client(base_url, key), options)
    results = []
    try:
        for step in checklist.steps():
            started = time.perf_counter()
            try:
                if checklist.key_refused and step.name != "bad key -> 401":
                    raise Skipped("the key is refused (see the models list)")
                outcome, detail = "PASS", step.run()
            except Skipped as skip:
                outcome, detail = "SKIP", str(skip)
            except Failed as failure:
                outcome, detail = "FAIL", str(failure)
            except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
                outcome, detail = "FAIL", f"unexpected answer shape ({type(exc).__name__}: {exc})"
            sent = step.sent.replace("{model}", checklist.model or "?")
            results.append(Result(step.name, outcome, detail, (time.perf_counter() - started) * 1000, sent, step.expected))
    finally:
        if checklist.receiver is not None:
            checklist.receiver.close()
    return results
