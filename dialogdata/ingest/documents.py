"""Document containers: YAML files (loaded safely, every scalar kept as text) and plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from dialogdata.ingest.containers import iter_raw_lines, read_document
from dialogdata.ingest.records import Limits, RawRecord


def iter_yaml(stream: IO[bytes], encoding: str, limits: Limits) -> Iterator[RawRecord]:
    """Yield the records of a YAML file: the items of its top-level list, or of its one list of records.

    Scalars stay strings (`NO`, `1984` and `2024-01-01` are text), no tag can build an object, and
    aliases are counted so that an alias bomb is rejected instead of expanded.
    """
    import yaml

    data, error = read_document(stream, encoding, limits)
    if data is None:
        yield RawRecord(index=0, line=None, error=error)
        return
    try:
        root = _compose(data.decode("utf-8", "surrogatepass"), limits)
    except yaml.YAMLError as exc:
        yield RawRecord(
            index=0, line=_mark_line(exc), raw=data[:1024], error=("yaml.invalid", f"expected YAML: {exc}")
        )
        return
    except _AliasLimitError as exc:
        yield RawRecord(index=0, line=None, raw=data[:1024], error=("yaml.aliases", str(exc)))
        return
    if root is None:
        return
    index = 0
    try:
        for index, record in enumerate(_records(root, data)):  # noqa: B007 (index is used after the loop)
            yield record
    except _AliasLimitError as exc:
        yield RawRecord(index=index, line=None, raw=data[:1024], error=("yaml.aliases", str(exc)))


class _AliasLimitError(Exception):
    """More aliases than the limit allows (billion-laughs defence)."""


def _compose(text: str, limits: Limits) -> Any:
    """Compose the YAML node tree with BaseLoader (strings only), counting aliases."""
    import yaml

    class Loader(yaml.BaseLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                Loader.aliases += 1
                if Loader.aliases > limits.max_yaml_aliases:
                    raise _AliasLimitError(f"expected at most {limits.max_yaml_aliases} YAML aliases")
            return super().compose_node(parent, index)

    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _records(root: Any, data: bytes) -> Iterator[RawRecord]:
    """Yield the record nodes with their lines; the rest of a top-level mapping is each record's context."""
    items, context_nodes = _record_nodes(root)
    # Aliases share nodes, so building values can multiply them: cap the values built per byte of input.
    budget = [2 * len(data) + 1000]
    context = {str(_construct(k, budget)): _construct(v, budget) for k, v in context_nodes}
    lines = data.splitlines()
    for index, node in enumerate(items):
        line = node.start_mark.line + 1
        raw = b"\n".join(lines[line - 1 : node.end_mark.line + 1])
        yield RawRecord(
            index=index, line=line, raw=raw, data=_construct(node, budget), context=context or None
        )


def _record_nodes(root: Any) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Return the record nodes and the top-level context (e.g. chatterbot's `categories`).

    In a top-level mapping the records are the list holding the most lists or mappings; the other
    keys are context that every record carries into its metadata.
    """
    import yaml

    if isinstance(root, yaml.SequenceNode):
        return list(root.value), []
    if isinstance(root, yaml.MappingNode):
        lists = [v for _, v in root.value if isinstance(v, yaml.SequenceNode)]
        best = max(
            lists, key=lambda v: sum(not isinstance(i, yaml.ScalarNode) for i in v.value), default=None
        )
        if best is not None and any(not isinstance(i, yaml.ScalarNode) for i in best.value):
            return list(best.value), [(k, v) for k, v in root.value if v is not best]
    return [root], []


def _construct(node: Any, budget: list[int]) -> Any:
    """Build plain Python values (strings, lists, dicts) from a node tree, within the value budget."""
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise _AliasLimitError("expected YAML whose aliases do not multiply its size (an alias bomb)")
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, budget) for item in node.value]
    return {str(_construct(k, budget)): _construct(v, budget) for k, v in node.value}


def _mark_line(exc: Any) -> int | None:
    """Return the 1-based line a YAML error points at, if it says."""
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def iter_text(
    stream: IO[bytes], encoding: str, limits: Limits, *, turn_separator: str | None, blocks: bool
) -> Iterator[RawRecord]:
    """Yield plain-text dialogues: one per line split on `turn_separator`, or one per blank-line block."""
    lines = iter_raw_lines(stream, encoding, limits)
    pattern = re.compile(re.escape(turn_separator)) if turn_separator else None
    block: list[tuple[int, str]] = []
    index = 0
    for number, raw, error in lines:
        if error is not None:
            yield RawRecord(index=index, line=number, raw=raw, error=error)
            index += 1
            continue
        text = raw.decode("utf-8", "surrogatepass")
        if blocks and text.strip():
            block.append((number, text))
            continue
        if blocks and block:
            yield _text_record(block, pattern, index)
            index += 1
            block = []
        elif not blocks and text.strip():
            yield _text_record([(number, text)], pattern, index)
            index += 1
    if block:
        yield _text_record(block, pattern, index)


def _text_record(block: list[tuple[int, str]], pattern: re.Pattern[str] | None, index: int) -> RawRecord:
    """Turn a line or block into a list of turn texts (split on the separator, or one turn per line)."""
    text = "\n".join(t for _, t in block)
    turns = pattern.split(text) if pattern else [t for _, t in block]
    turns = [t.strip() for t in turns if t.strip()]
    return RawRecord(index=index, line=block[0][0], raw=text.encode("utf-8", "surrogatepass"), data=turns)
