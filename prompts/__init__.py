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

from .catalog import STORED_NAME_RE, can_exist
from .convert import (
    MAX_PROMPT_BYTES,
    ConvertedPrompt,
    PromptFileError,
    PromptTooLarge,
    convert_prompt,
)
from .dates import day_prompts, received_prompts, time_prompts
from .hot import ALL_QUEUES, HotPrompts
from .resolver import PromptError, PromptResolver

__all__ = [
    "day_prompts",
    "received_prompts",
    "time_prompts",
    "STORED_NAME_RE",
    "can_exist",
    "ConvertedPrompt",
    "MAX_PROMPT_BYTES",
    "PromptFileError",
    "PromptTooLarge",
    "convert_prompt",
    "ALL_QUEUES",
    "HotPrompts",
    "PromptError",
    "PromptResolver",
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
