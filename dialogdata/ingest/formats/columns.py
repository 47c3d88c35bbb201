"""Column-name and speaker aliases for tables, matched case- and space-insensitively."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dialogdata.schemas import Role

QUESTION = ("question", "q", "ask", "query", "prompt", "问", "问题", "提问", "咨询")
ANSWER = ("answer", "a", "response", "reply", "completion", "答", "答案", "回答", "回复")
SYSTEM = ("system", "system_prompt", "系统")
DIALOGUE_ID = (
    "dialogue_id", "dialog_id", "conversation_id", "conv_id", "session_id", "session", "chat_id",
    "thread_id", "对话id", "会话id", "会话",
)  # fmt: skip
SPEAKER = ("speaker", "role", "from", "sender", "author", "party", "说话人", "角色", "发言人")
TEXT = ("text", "content", "utterance", "message", "value", "内容", "文本", "消息")
ORDER = ("turn", "turn_id", "turn_index", "order", "seq", "sequence", "index", "position", "轮次", "序号")
KNOWN_COLUMNS = frozenset((*QUESTION, *ANSWER, *SYSTEM, *DIALOGUE_ID, *SPEAKER, *TEXT, *ORDER))
SPEAKERS: dict[str, Role] = {
    **dict.fromkeys(
        ("user", "human", "customer", "client", "patient", "usr", "客户", "用户", "患者", "病人"), Role.USER
    ),
    **dict.fromkeys(
        ("assistant", "agent", "bot", "gpt", "doctor", "staff", "advisor", "客服", "医生", "坐席", "助手"),
        Role.ASSISTANT,
    ),
    **dict.fromkeys(("system", "系统"), Role.SYSTEM),
    **dict.fromkeys(("tool", "observation", "function"), Role.TOOL),
}


def normalise(name: str) -> str:
    """Fold a column name for matching: lower case, spaces and dashes as underscores."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def find_column(record: Mapping[str, Any], aliases: Iterable[str]) -> str | None:
    """Return the record's key that matches one of `aliases` (in alias order), or None."""
    keys = {normalise(str(k)): str(k) for k in record}
    return next((keys[a] for a in aliases if a in keys), None)
