"""The one table of stable codes: rejects (ingest), issues (validators) and filter rules."""

from __future__ import annotations

REJECT_CODES: dict[str, str] = {
    "encoding.invalid": "the bytes are not valid in the file's encoding",
    "json.invalid": "the text is not valid JSON",
    "file.unreadable": "the file could not be opened or read to its end (the rest of it is rejected)",
    "file.too_large": "the file (or its decompressed data) is larger than the limit",
    "archive.corrupt": "the archive (zip, gzip, zstd) is corrupt or truncated",
    "record.not_object": "the record is not an object (or, for utterance formats, a list)",
    "record.too_large": "the record is larger than the record size limit",
    "record.too_deep": "the record nests deeper than the nesting limit",
    "csv.field_count": "a CSV row has more or fewer fields than the header",
    "yaml.invalid": "the text is not valid YAML",
    "text.surrogate": "a text holds a lone surrogate, which no UTF-8 output can carry",
    "yaml.aliases": "the YAML uses more aliases than the limit (an alias bomb)",
    "format.undetected": "no known format matches the file's records; pass --format",
    "format.missing_field": "a field the format requires is absent",
    "format.bad_type": "a field has the wrong type (for example a number where text is expected)",
    "format.unknown_role": "a turn names a role or speaker the format does not know",
    "format.no_turns": "the record holds no turns",
}

ISSUE_CODES: dict[str, str] = {
    "consistency.role_order": (
        "roles out of order: system after the start, two user or assistant turns in a row, "
        "or a tool turn that answers no call"
    ),
    "consistency.empty_turn": "a turn with no text (empty or whitespace only) and no tool call",
    "consistency.ends_with_user": "the dialogue ends on a user turn, with no answer to learn from",
    "consistency.no_user": "the dialogue has no user turn, so its replies answer nobody",
    "consistency.repeated_turn": (
        "a user or assistant turn repeats, word for word, the previous turn of the same speaker"
    ),
    "consistency.echo_reply": "an assistant reply that mostly repeats the user turn it answers",
    "consistency.language_mismatch": (
        "a reply in another script than the question (or than the system prompt asks for)"
    ),
    "consistency.truncated": (
        "a reply cut off: mid-sentence, on a comma or connective, or with an unclosed code fence"
    ),
    "consistency.placeholder": "a template placeholder left in the text, such as {{name}} or [PATIENT_NAME]",
    "consistency.number_drift": (
        "a reply restates a figure given earlier in a close but different form (150/95 -> 160/95)"
    ),
    "consistency.tool_arguments": (
        "a tool call's arguments are not a JSON object, or break the declared tool "
        "(unknown name, missing required argument, wrong type or enum value)"
    ),
    "consistency.long_reply": "an assistant reply longer than max_reply_chars",
    "conflict.duplicate": (
        "an exact duplicate of another dialogue once texts are NFC, whitespace-collapsed, case-folded"
    ),
    "conflict.near_duplicate": (
        "a near duplicate of an earlier dialogue: the whole dialogue is similar, or the prompt is and "
        "the final answer does not diverge"
    ),
    "conflict.contradiction": (
        "a near-identical prompt (context before the final answer) whose final answer diverges"
    ),
    "conflict.reused_answer": "an assistant answer reused word for word across many distinct prompts",
    "conflict.prefix": "the dialogue is the first turns of a longer dialogue in the corpus",
    "conflict.adversarial_share": "the corpus's share of adversarial samples lies outside the target band",
    "coverage.missing_cell": "a required checklist cell holds no dialogue",
    "coverage.thin_cell": "a required checklist cell holds fewer dialogues than its minimum count or share",
}

FILTER_CODES: dict[str, str] = {
    "filter.issue": "dropped because it has an issue whose code is in the filter's drop list",
    "filter.score": "dropped because a score is under the filter's minimum",
}


def describe(code: str) -> str:
    """Return the documented meaning of `code`, or raise KeyError for an unknown code."""
    for table in (REJECT_CODES, ISSUE_CODES, FILTER_CODES):
        if code in table:
            return table[code]
    raise KeyError(code)
