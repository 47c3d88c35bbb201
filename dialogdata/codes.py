"""The one table of stable codes: rejects (ingest), issues (validators), filter rules and export losses."""

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
    "csv.invalid": (
        "a CSV row cannot be read: a quoted field opened on its line never closes (the file ends inside it, "
        "or it swallows lines that read as rows); reading resumes on the next line"
    ),
    "yaml.invalid": "the text is not valid YAML",
    "text.surrogate": "a text holds a lone surrogate, which no UTF-8 output can carry",
    "yaml.aliases": "the YAML uses more aliases than the limit (an alias bomb)",
    "format.undetected": "no known format matches the file's records; pass --format",
    "format.missing_field": "a field the format requires is absent",
    "format.bad_type": "a field has the wrong type (for example a number where text is expected)",
    "format.unknown_role": "a turn names a role or speaker the format does not know",
    "format.no_turns": "the record holds no turns",
    "op_error": (
        "a validator, augmenter or exporter raised an error on this dialogue (the message names the stage "
        "and the error); the dialogue is rejected and the run goes on"
    ),
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

EXPORT_CODES: dict[str, str] = {
    "export.unrepresentable": (
        "the format cannot hold the dialogue at all (it has no turns; alpaca: no user turn answered by an "
        "assistant turn); it is not written"
    ),
    "export.tools_dropped": "the declared tools are dropped: the format has no place for them",
    "export.tool_calls_dropped": (
        "tool calls are dropped: the format has no place for them (or for calls on a turn that is not "
        "the assistant's)"
    ),
    "export.tool_turns_dropped": "tool result turns are dropped: the format has no place for them",
    "export.system_dropped": (
        "a system turn that is not the first turn, or is empty, is dropped: the format holds one "
        "system prompt"
    ),
    "export.name_dropped": "a turn's name is dropped: the format has no place for it",
    "export.loss_dropped": (
        "a turn's loss flag is dropped: the format has no place for it on that turn (openai weighs "
        "assistant turns only; chatglm3 never trains on tool results)"
    ),
    "export.tool_call_ids_dropped": (
        "tool call ids and the tool_call_id of turns are dropped: the format has no place for them"
    ),
    "export.tool_call_ids_added": (
        "a tool call without an id gets one (call_N), and a tool result answering a call gets its id, "
        "as OpenAI requires"
    ),
    "export.turn_split": (
        "an assistant turn with both text and tool calls is written as a text turn, then its calls"
    ),
    "export.multiple_tool_calls": (
        "an assistant turn makes several tool calls: chatglm3 writes one tool turn per call; sharegpt writes "
        "them as one list, which LLaMA-Factory reads and dialogdata's sharegpt reader rejects"
    ),
    "export.unanswered_call": (
        "a tool call with no tool result after it is written with an empty observation (chatglm3 keeps a "
        "call and its result in one turn)"
    ),
    "export.orphan_tool_result": (
        "a tool result that answers no call is written as an observation turn with loss false (chatglm3)"
    ),
    "export.arguments_reformatted": (
        "tool call arguments are written as a JSON object, so their text comes back in compact form"
    ),
    "export.arguments_not_object": (
        "tool call arguments are not a JSON object: written as text, which the trainer cannot read as "
        "parameters"
    ),
    "export.turns_joined": (
        "consecutive turns of one speaker are joined with a newline (alpaca needs user/assistant pairs)"
    ),
    "export.starts_with_assistant": (
        "assistant turns before the first user turn are dropped (alpaca needs user/assistant pairs)"
    ),
    "export.ends_with_user": (
        "user turns after the last assistant turn are dropped (alpaca needs user/assistant pairs)"
    ),
    "export.not_alternating": (
        "the turns do not alternate human or observation, then gpt or function_call, after the system turn, "
        "so LLaMA-Factory skips the record (sharegpt)"
    ),
    "export.ends_without_reply": (
        "the record does not end on a gpt or function_call turn, so LLaMA-Factory skips it (sharegpt)"
    ),
}


def describe(code: str) -> str:
    """Return the documented meaning of `code`, or raise KeyError for an unknown code."""
    for table in (REJECT_CODES, ISSUE_CODES, FILTER_CODES, EXPORT_CODES):
        if code in table:
            return table[code]
    raise KeyError(code)
