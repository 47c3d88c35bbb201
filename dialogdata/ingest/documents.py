"""Document containers: YAML files (loaded safely, every scalar kept as text) and plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from dialogdata.ingest.containers import iter_raw_lines, read_document
from dialogdata.ingest.encoding import decode_text
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
    text, problem = decode_text(data, "utf-8")
    if text is None:
        # A YAML file is one document: bytes that do not decode reject it whole, with the line they are on.
        yield RawRecord(
            index=0, line=None, raw=data[:1024], error=("encoding.invalid", problem or "not UTF-8")
        )
        return
    try:
        root = _compose(text, limits)
    except yaml.YAMLError as exc:
        yield RawRecord(
            index=0, line=_mark_line(exc), raw=data[:1024], error=("yaml.invalid", f"expected YAML: {exc}")
        )
        return
    except _AliasLimitError as exc:
        yield RawRecord(index=0, line=None, raw=data[:1024], error=("yaml.aliases", str(exc)))
        return
    except (_DepthLimitError, RecursionError):
        message = f"expected YAML nesting of at most {limits.max_depth} levels"
        yield RawRecord(index=0, line=None, raw=data[:1024], error=("record.too_deep", message))
        return
    if root is None:
        return
    count = 0
    try:
        for record in _records(root, data, limits):
            yield record
            count += 1
    except _AliasLimitError as exc:
        # The rest of the file is lost: one error record, numbered after the records that came out.
        yield RawRecord(index=count, line=None, raw=data[:1024], error=("yaml.aliases", str(exc)))
    except _DepthLimitError:
        message = f"expected nesting of at most {limits.max_depth} levels (outside the records)"
        yield RawRecord(index=count, line=None, raw=data[:1024], error=("record.too_deep", message))


class _AliasLimitError(Exception):
    """More aliases than the limit allows (billion-laughs defence)."""


class _RecursiveAliasError(_AliasLimitError):
    """An alias inside the node it refers to: its value would never end."""


class _DepthLimitError(Exception):
    """Nesting deeper than the limit (the composer and the constructor recurse once per level)."""


# The tag of the node that stands for a subtree nested past the limit (it is skipped, never composed).
_TOO_DEEP = "tag:dialogdata,2024:too-deep"
# Levels allowed above a record's own: the document's list, the mapping that holds it, a scalar leaf.
_WRAPPING_LEVELS = 3


def _compose(text: str, limits: Limits) -> Any:
    """Compose the YAML node tree with BaseLoader (strings only), counting aliases and bounding depth.

    A collection nested past the limit is skipped event by event (never composed, so the recursion
    stays bounded) and replaced by a `_TOO_DEEP` node, which rejects the record that holds it.
    """
    import yaml

    bound = limits.max_depth + _WRAPPING_LEVELS

    class Loader(yaml.BaseLoader):
        aliases = 0
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                Loader.aliases += 1
                if Loader.aliases > limits.max_yaml_aliases:
                    raise _AliasLimitError(f"expected at most {limits.max_yaml_aliases} YAML aliases")
            elif self.depth >= bound and self.check_event(yaml.CollectionStartEvent):
                return self._skip()
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def _skip(self) -> Any:
            start = self.get_event()  # type: ignore[no-untyped-call]
            end, nesting = start, 1
            while nesting:
                end = self.get_event()  # type: ignore[no-untyped-call]
                if isinstance(end, yaml.CollectionStartEvent):
                    nesting += 1
                elif isinstance(end, yaml.CollectionEndEvent):
                    nesting -= 1
            return yaml.ScalarNode(_TOO_DEEP, "", start.start_mark, end.end_mark)

    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _records(root: Any, data: bytes, limits: Limits) -> Iterator[RawRecord]:
    """Yield the record nodes with their lines; the rest of a top-level mapping is each record's context."""
    items, context_nodes = _record_nodes(root)
    # Aliases share nodes, so building values can multiply them: cap the values built per byte of input.
    budget = [2 * len(data) + 1000]
    limit = limits.max_depth
    context = {
        str(_construct(k, budget, set(), limit)): _construct(v, budget, set(), limit)
        for k, v in context_nodes
    }
    lines = data.splitlines()
    for index, node in enumerate(items):
        line = node.start_mark.line + 1
        raw = b"\n".join(lines[line - 1 : node.end_mark.line + 1])
        try:
            value = _construct(node, budget, set(), limit)
        except _DepthLimitError:
            message = f"expected nesting of at most {limits.max_depth} levels"
            yield RawRecord(index=index, line=line, raw=raw[:1024], error=("record.too_deep", message))
            continue
        except _RecursiveAliasError as exc:
            yield RawRecord(index=index, line=line, raw=raw[:1024], error=("yaml.aliases", str(exc)))
            continue
        yield RawRecord(index=index, line=line, raw=raw, data=value, context=context or None)


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


def _construct(node: Any, budget: list[int], active: set[int], limit: int) -> Any:
    """Build plain Python values (strings, lists, dicts) from a node tree, within the value budget.

    `active` holds the collections being built around this node: an alias to one of them (`&a [*a]`,
    which the composer accepts) would make an endless value, so it is refused; and past `limit` of
    them the value is too deep (aliases can stack nestings the composer saw apart).
    """
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise _AliasLimitError("expected YAML whose aliases do not multiply its size (an alias bomb)")
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _TOO_DEEP:
            raise _DepthLimitError
        return node.value
    if id(node) in active:
        raise _RecursiveAliasError("expected YAML aliases that do not refer to a node from inside it")
    if len(active) >= limit:
        raise _DepthLimitError
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            return [_construct(item, budget, active, limit) for item in node.value]
        return {
            str(_construct(k, budget, active, limit)): _construct(v, budget, active, limit)
            for k, v in node.value
        }
    finally:
        active.discard(id(node))


def _mark_line(exc: Any) -> int | None:
    """Return the 1-based line a YAML error points at, if it says."""
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def iter_text(
    stream: IO[bytes], encoding: str, limits: Limits, *, turn_separator: str | None, blocks: bool
) -> Iterator[RawRecord]:
    """Yield plain-text dialogues: one per line split on `turn_separator`, or one per blank-line block."""
    lines = iter_raw_lines(stream, encoding, limits, text=True)
    pattern = re.compile(re.escape(turn_separator)) if turn_separator else None
    block: list[tuple[int, str]] = []
    index = 0
    for number, raw, error in lines:
        if error is not None:
            yield RawRecord(index=index, line=number, raw=raw, error=error)
            index += 1
            continue
        text = raw.decode("utf-8")
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
    return RawRecord(index=index, line=block[0][0], raw=text.encode("utf-8"), data=turns)
