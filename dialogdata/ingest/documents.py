"""Document containers: YAML files (loaded safely, every scalar kept as text) and plain text."""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from dialogdata.ingest.containers import iter_raw_lines, read_document
from dialogdata.ingest.encoding import decode_text
from dialogdata.ingest.records import Limits, RawRecord


def iter_yaml(stream: IO[bytes], encoding: str, limits: Limits) -> Iterator[RawRecord]:
    """Yield the records of each YAML document: the items of its top-level list, or of its list of records.

    Scalars stay strings (`NO`, `1984` and `2024-01-01` are text), no tag can build an object, aliases
    are counted so that an alias bomb is rejected instead of expanded, and a document that cannot be
    read is rejected without the documents around it.
    """
    data, error = read_document(stream, encoding, limits)
    if data is None:
        yield RawRecord(index=0, line=None, error=error)
        return
    text, problem = decode_text(data, "utf-8")
    if text is None:
        # The scanner needs the whole text: bytes that do not decode reject the file, with their line.
        yield RawRecord(
            index=0, line=None, raw=data[:1024], error=("encoding.invalid", problem or "not UTF-8")
        )
        return
    lines = data.splitlines()
    index = 0
    for document in _iter_documents(text, limits):
        if isinstance(document, _Failure):
            raw = b"\n".join(lines[document.first : document.last + 1])[:1024]
            yield RawRecord(index=index, line=document.line, raw=raw, error=(document.code, document.message))
            index += 1
            continue
        for record in _records(document, lines, limits, index):
            yield record
            index += 1


class _AliasLimitError(Exception):
    """More aliases than the limit, or values that aliases multiply past the budget (billion laughs)."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.mark = mark


class _RecursiveAliasError(_AliasLimitError):
    """An alias inside the node it refers to: its value would never end."""


class _DepthLimitError(Exception):
    """Nesting deeper than the limit (the composer and the constructor recurse once per level)."""


class _Failure(NamedTuple):
    """A document that could not be composed: its reject, and the 0-based lines its excerpt shows."""

    code: str
    message: str
    line: int | None
    first: int
    last: int


# The style of the scalar that stands for a collection nested past the limit (it is skipped, never
# composed, and rejects the record that holds it); no YAML text can give a scalar this style.
_TOO_DEEP = "too-deep"
# Levels allowed above a record's own: the document's list, the mapping that holds it, a scalar leaf.
_WRAPPING_LEVELS = 3
# Values a record may build beyond twice its own characters: room for a few short aliases.
_BUDGET_SLACK = 1000
# A line that starts a document: `---` at column 0 before a space, a tab or a line break. The scanner
# never reads it as content (not in a block scalar, a quoted scalar or a flow collection), so reading can
# resume there after a syntax error.
_DOCUMENT_START = re.compile(r"(?<![^\r\n\x85\u2028\u2029])---(?=[ \t\r\n\x85\u2028\u2029]|\Z)")


def _iter_documents(text: str, limits: Limits) -> Iterator[Any]:
    """Yield each document's root node in turn, or a `_Failure` for a document that cannot be composed.

    A syntax error stops the scanner, so reading resumes at the first document start (`---` line) after
    the failed document's own start, and everything in between is that document's one reject.
    """
    import yaml

    try:
        loader = _loader_class()(text, limits)
    except yaml.YAMLError as exc:
        # A character YAML forbids, anywhere in the text: the reader refuses the whole stream up front.
        yield _Failure("yaml.invalid", f"expected YAML (the whole file is skipped): {exc}", None, 0, 0)
        return
    try:
        while True:
            start = loader.boundary
            try:
                if not loader.check_node():
                    return
                start = loader.peek_event().start_mark
                node = loader.get_node()
                if not loader.explicit_end:
                    # Without `...` a document runs to the next `---`: text that is not one spoils it too.
                    loader.check_node()
            except yaml.YAMLError as exc:
                marks = (getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None))
                failure = ("yaml.invalid", "expected YAML", str(exc))
            except _AliasLimitError as exc:
                marks, failure = (exc.mark, None), ("yaml.aliases", str(exc), "")
            except RecursionError:
                marks = (None, None)
                failure = ("record.too_deep", f"expected nesting of at most {limits.max_depth} levels", "")
            else:
                if not _is_empty(node):
                    yield node
                continue
            reject, resume = _fail(text, failure, start, marks)
            yield reject
            if resume is None:
                return
            loader.restart(*resume)
    finally:
        loader.dispose()


def _fail(
    text: str, failure: tuple[str, str, str], start: Any, marks: tuple[Any, Any]
) -> tuple[_Failure, tuple[int, int] | None]:
    """Return the reject of a failed document, and the offset and 0-based line where reading resumes.

    `failure` is the code, what was expected and the parser's detail; `start` is where the document began
    (or where the previous one ended, when it failed before it began); `marks` are where it failed (the
    problem, then its context).
    """
    code, expected, detail = failure
    detail = f": {detail}" if detail else ""
    first = start.line
    found = _DOCUMENT_START.search(text, start.index + 1)
    if found is None:
        line = _failure_line(marks, first, None)
        skipped = f"the rest of the file, from line {first + 1}, is skipped"
        return _Failure(code, f"{expected} ({skipped}){detail}", line + 1, first, line), None
    last = _line_at(text, start, found.start()) - 1
    line = _failure_line(marks, first, last)
    span = f"line {first + 1} is" if last == first else f"lines {first + 1}-{last + 1} are"
    skipped = f"{span} skipped, reading resumes at the document on line {last + 2}"
    return _Failure(code, f"{expected} ({skipped}){detail}", line + 1, first, last), (found.start(), last + 1)


def _failure_line(marks: tuple[Any, Any], first: int, last: int | None) -> int:
    """Return the 0-based line of the first mark inside the skipped lines, else their first line.

    An unclosed bracket is reported at the next document's `---`; its context says where it was opened.
    """
    inside = [m.line for m in marks if m is not None and first <= m.line and (last is None or m.line <= last)]
    return int(inside[0]) if inside else first


def _line_at(text: str, mark: Any, offset: int) -> int:
    """Return the 0-based line of `offset` (at or after `mark`), counting line breaks as the reader does."""
    lone_cr = text.count("\r", mark.index, offset) - text.count("\r\n", mark.index, offset)
    breaks = sum(text.count(c, mark.index, offset) for c in "\n\x85\u2028\u2029")
    return int(mark.line) + lone_cr + breaks


def _is_empty(node: Any) -> bool:
    """Tell a document with no content (`---` and nothing else): it holds no record."""
    import yaml

    return (
        isinstance(node, yaml.ScalarNode)
        and node.style is None
        and node.value == ""
        and node.tag == yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
    )


@functools.cache
def _loader_class() -> Any:
    """Return the loader: BaseLoader (strings only) that counts aliases and bounds nesting as it reads."""
    import yaml

    class Loader(yaml.BaseLoader):
        """BaseLoader (every scalar a string) that counts aliases, skips what nests too deep, and resumes.

        At most `max_yaml_aliases` aliases per document; a collection nested past the bound is skipped
        (never composed, so recursion stays bounded) and replaced by a `_TOO_DEEP` scalar, which rejects
        the record that holds it.
        """

        def __init__(self, text: str, limits: Limits) -> None:
            super().__init__(text)
            self.tokens = collections.deque(self.tokens)  # type: ignore[assignment]
            self.bound = limits.max_depth + _WRAPPING_LEVELS
            self.max_aliases = limits.max_yaml_aliases
            self.depth = 0
            self.aliases = 0
            # Where the last document ended (or reading started), and whether it ended with `...`.
            self.boundary, self.explicit_end = self.get_mark(), False
            # Anchors defined inside skipped collections: an alias to one stands for a too-deep value.
            self.skipped: set[str] = set()

        def restart(self, offset: int, line: int) -> None:
            """Read on from `offset` (column 0 of `line`) as a new stream, after a document that failed."""
            # A new loader would copy and check the whole text again, so many bad documents would cost
            # quadratic time: the reader moves instead, and the scanner, parser and composer start afresh.
            self.pointer = self.index = offset
            self.line, self.column = line, 0
            self.boundary = self.get_mark()
            yaml.scanner.Scanner.__init__(self)
            self.tokens = collections.deque(self.tokens)  # type: ignore[assignment]
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            self.depth = 0

        def get_token(self) -> Any:
            # PyYAML's token queue is a list popped at the front: the burst of block ends that closes a
            # deep `- - - ...` line would cost quadratic time, so the queue is a deque.
            while self.need_more_tokens():
                self.fetch_more_tokens()
            if not self.tokens:
                return None
            self.tokens_taken += 1
            return self.tokens.popleft()  # type: ignore[attr-defined]

        def compose_document(self) -> Any:
            self.aliases = 0
            self.skipped.clear()
            self.get_event()  # type: ignore[no-untyped-call]
            node = self.compose_node(None, None)
            end = self.get_event()  # type: ignore[no-untyped-call]
            self.explicit_end, self.boundary = bool(end.explicit), end.end_mark
            self.anchors = {}
            return node

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                return self._compose_alias(parent, index)
            if self.depth >= self.bound and self.check_event(yaml.CollectionStartEvent):
                return self._skip_events()
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def _compose_alias(self, parent: Any, index: Any) -> Any:
            """Count the alias against the limit; one to an anchor inside a skipped collection is too deep."""
            event = self.peek_event()  # type: ignore[no-untyped-call]
            self.aliases += 1
            if self.aliases > self.max_aliases:
                message = f"expected at most {self.max_aliases} aliases in a YAML document, found more"
                raise _AliasLimitError(message, event.start_mark)
            if event.anchor in self.skipped and event.anchor not in self.anchors:
                self.get_event()  # type: ignore[no-untyped-call]
                return self._too_deep(event, event)
            return super().compose_node(parent, index)

        def _skip_events(self) -> Any:
            """Consume a collection nested past the bound, event by event, and return its stand-in."""
            start = self.get_event()  # type: ignore[no-untyped-call]
            end, nesting = start, 1
            while nesting:
                end = self.get_event()  # type: ignore[no-untyped-call]
                if isinstance(end, yaml.CollectionStartEvent):
                    nesting += 1
                elif isinstance(end, yaml.CollectionEndEvent):
                    nesting -= 1
                if isinstance(end, yaml.NodeEvent) and not isinstance(end, yaml.AliasEvent) and end.anchor:
                    self.skipped.add(end.anchor)
            node = self._too_deep(start, end)
            if start.anchor is not None:
                self.anchors[start.anchor] = node
            return node

        def _too_deep(self, start: Any, end: Any) -> Any:
            """Return the scalar that stands for a skipped collection (or an alias into one)."""
            tag = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
            return yaml.ScalarNode(tag, "", start.start_mark, end.end_mark, style=_TOO_DEEP)

        def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 (PyYAML's name)
            if self.flow_level < self.bound:
                super().fetch_flow_collection_start(TokenClass)
            else:
                self._skip_flow_collection()

        def _skip_flow_collection(self) -> None:
            """Read a flow collection nested past the bound as one `_TOO_DEEP` scalar token.

            The scanner looks at every open flow level for each token (quadratic in the depth), so past
            the bound the text is only walked to the matching bracket, with the scanner's own readers.
            """
            self.save_possible_simple_key()
            self.allow_simple_key = False
            start = self.get_mark()
            self.forward()
            nesting = 1
            while nesting:
                self.scan_to_next_token()
                char = self.peek()
                if char in "[{]}":
                    nesting += 1 if char in "[{" else -1
                    self.forward()
                elif char in ",?:":
                    self.forward()
                elif char in "'\"":
                    self.scan_flow_scalar(char)
                elif char in "&*":
                    token = self.scan_anchor(yaml.AnchorToken)  # type: ignore[no-untyped-call]
                    if char == "&":
                        self.skipped.add(token.value)
                elif char == "!":
                    self.scan_tag()
                elif char != "\0" and self.check_plain() and not self._at_document_marker():
                    self.scan_plain()
                else:
                    found = "the end of the stream" if char == "\0" else repr(char)
                    found = "a document marker" if self._at_document_marker() else found
                    context = "while scanning a flow collection nested past the depth limit"
                    problem = f"expected ',', ']' or '}}', but found {found}"
                    raise yaml.scanner.ScannerError(context, start, problem, self.get_mark())
            self.tokens.append(yaml.ScalarToken("", False, start, self.get_mark(), _TOO_DEEP))

        def _at_document_marker(self) -> bool:
            """Tell a `---` or `...` at column 0, which ends any flow collection (as an error)."""
            starts = self.check_document_start()  # type: ignore[no-untyped-call]
            return bool(starts or self.check_document_end())  # type: ignore[no-untyped-call]

    return Loader


def _records(root: Any, lines: list[bytes], limits: Limits, start: int) -> Iterator[RawRecord]:
    """Yield a document's records, numbered from `start`; the rest of a top-level mapping is their context.

    Aliases share nodes, so building values can multiply them: each record may build at most twice its
    own characters plus a constant, so a bomb rejects its own record only, and the context has its own
    budget (twice the document's characters).
    """
    items, floor, context_nodes = _record_nodes(root)
    try:
        context = _context(context_nodes, 2 * _span(root) + _BUDGET_SLACK, limits.max_depth)
    except (_AliasLimitError, _DepthLimitError) as exc:
        # Every record carries the context, so none of them can be read without it.
        yield _reject(root, lines, start, exc, limits, where=" (outside the records)")
        return
    for offset, node in enumerate(items):
        # An item that starts before the previous one ended is an alias to an earlier node: its own text
        # is the alias alone, however large the node it names.
        own = _span(node) if node.start_mark.index >= floor else 0
        floor = max(floor, node.end_mark.index)
        try:
            value = _construct(node, [2 * own + _BUDGET_SLACK], set(), limits.max_depth)
        except (_AliasLimitError, _DepthLimitError) as exc:
            yield _reject(node, lines, start + offset, exc, limits)
            continue
        line = node.start_mark.line + 1
        raw = _node_text(lines, node)
        yield RawRecord(index=start + offset, line=line, raw=raw, data=value, context=context or None)


def _reject(
    node: Any, lines: list[bytes], index: int, exc: Exception, limits: Limits, *, where: str = ""
) -> RawRecord:
    """Return the reject of a node whose value cannot be built: an alias bomb, or nesting past the limit."""
    if isinstance(exc, _AliasLimitError):
        error = ("yaml.aliases", f"{exc}{where}")
    else:
        error = ("record.too_deep", f"expected nesting of at most {limits.max_depth} levels{where}")
    line = node.start_mark.line + 1
    return RawRecord(index=index, line=line, raw=_node_text(lines, node)[:1024], error=error)


def _node_text(lines: list[bytes], node: Any) -> bytes:
    """Return the source lines a node spans."""
    return b"\n".join(lines[node.start_mark.line : node.end_mark.line + 1])


def _span(node: Any) -> int:
    """Return how many characters of the text a node spans."""
    return int(node.end_mark.index - node.start_mark.index)


def _context(nodes: list[tuple[Any, Any]], budget: int, limit: int) -> dict[str, Any]:
    """Build the top-level keys beside the records (every record's context) within one value budget."""
    left = [budget]
    return {str(_construct(k, left, set(), limit)): _construct(v, left, set(), limit) for k, v in nodes}


def _record_nodes(root: Any) -> tuple[list[Any], int, list[tuple[Any, Any]]]:
    """Return the record nodes, where their list starts and the top-level context (chatterbot's `categories`).

    In a top-level mapping the records are the list holding the most lists or mappings; the other
    keys are context that every record carries into its metadata.
    """
    import yaml

    if isinstance(root, yaml.SequenceNode):
        return list(root.value), root.start_mark.index, []
    if isinstance(root, yaml.MappingNode):
        lists = [v for _, v in root.value if isinstance(v, yaml.SequenceNode)]
        best = max(
            lists, key=lambda v: sum(not isinstance(i, yaml.ScalarNode) for i in v.value), default=None
        )
        if best is not None and any(not isinstance(i, yaml.ScalarNode) for i in best.value):
            return list(best.value), best.start_mark.index, [(k, v) for k, v in root.value if v is not best]
    return [root], root.start_mark.index, []


def _construct(node: Any, budget: list[int], active: set[int], limit: int) -> Any:
    """Build plain Python values (strings, lists, dicts) from a node tree, within the value budget.

    `active` holds the collections being built around this node: an alias to one of them (`&a [*a]`,
    which the composer accepts) would make an endless value, so it is refused; and past `limit` of
    them the value is too deep (aliases can stack nestings the composer saw apart).
    """
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise _AliasLimitError(
            "expected aliases that do not multiply the values built (an alias bomb), found more"
        )
    if isinstance(node, yaml.ScalarNode):
        if node.style == _TOO_DEEP:
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
