"""Prompts: the shipped standard prompt catalog and its audio files (SPEC S7)."""

from prompts.catalog import (
    LANGUAGES,
    PROMPT_DESCRIPTIONS,
    PROMPT_KINDS,
    STANDARD_DIR,
    STANDARD_PROMPTS,
    StandardPrompt,
    list_standard_prompts,
    number_prompts,
    standard_prompt_path,
)

__all__ = [
    "LANGUAGES",
    "PROMPT_DESCRIPTIONS",
    "PROMPT_KINDS",
    "STANDARD_DIR",
    "STANDARD_PROMPTS",
    "StandardPrompt",
    "list_standard_prompts",
    "number_prompts",
    "standard_prompt_path",
]
