"""How much a model thinks, in each family's terms: one table, read in every direction.

| effort  | OpenAI `reasoning_effort` | Anthropic `thinking.budget_tokens` | Gemini `thinkingBudget` |
|---------|---------------------------|------------------------------------|-------------------------|
| none    | none                      | thinking left off                  | 0                       |
| minimal | minimal                   | 1024                               | 512                     |
| low     | low                       | 2048                               | 1024                    |
| medium  | medium                    | 8192                               | 8192                    |
| high    | high                      | 24576                              | 24576                   |
| xhigh   | xhigh                     | 32768                              | 24576 (Flash's ceiling) |

A token budget (Anthropic `budget_tokens`, Gemini `thinkingBudget`) goes to OpenAI as the effort whose
budget is the nearest one at or above it, and to the other budget family as it is. Gemini's
`thinkingLevel` and Anthropic's `output_config.effort` are efforts (`max` reads as `xhigh`).
A request that asks to see the thoughts but names neither (Gemini `includeThoughts` alone, a
Responses `reasoning.summary` alone, Anthropic adaptive thinking without an effort) keeps the
model's default effort: OpenAI gets no `reasoning_effort`, Gemini no `thinkingBudget`; Anthropic,
whose models think only when asked, gets thinking at the medium budget.
"""

from __future__ import annotations

from typing import Any

from anygate.core.chat import Reasoning

EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
_ANTHROPIC_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576, "xhigh": 32768}
_GEMINI_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 24576}
_ALIASES = {"max": "xhigh"}


def effort_name(value: Any) -> str | None:
    """A client's effort or thinking level as the table spells it (lower case, `max` as `xhigh`)."""
    if not isinstance(value, str) or not value:
        return None
    name = value.lower()
    return _ALIASES.get(name, name)


def effort_for_budget(budget: int) -> str:
    """The effort whose Anthropic budget is the nearest one at or above `budget`."""
    for effort in EFFORTS:
        if budget <= _ANTHROPIC_BUDGETS[effort]:
            return effort
    return "xhigh"


def openai_effort(reasoning: Reasoning) -> str | None:
    """The `reasoning_effort` for an OpenAI upstream (None: the model's default)."""
    if reasoning.effort:
        return reasoning.effort
    return effort_for_budget(reasoning.budget_tokens) if reasoning.budget_tokens else None


def anthropic_budget(reasoning: Reasoning) -> int | None:
    """The `thinking.budget_tokens` for an Anthropic upstream (None: thinking stays off)."""
    if reasoning.budget_tokens:
        return max(reasoning.budget_tokens, 1024)
    if reasoning.effort:
        return _ANTHROPIC_BUDGETS.get(reasoning.effort, _ANTHROPIC_BUDGETS["medium"]) if reasoning.effort != "none" else None
    return _ANTHROPIC_BUDGETS["medium"] if reasoning.show else None


def gemini_thinking(reasoning: Reasoning) -> dict[str, Any]:
    """The `thinkingConfig` for a Gemini upstream."""
    config: dict[str, Any] = {}
    if reasoning.budget_tokens:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.effort:
        config["thinkingBudget"] = _GEMINI_BUDGETS.get(reasoning.effort, _GEMINI_BUDGETS["medium"])
    if reasoning.show and config.get("thinkingBudget") != 0:
        config["includeThoughts"] = True
    return config
