"""Ray Data execution: the local engine's stages spread over a Ray cluster, with byte-identical outputs.

Pass one is one Ray Data pipeline. A task per input file reads it (archive members included) into rows;
a streaming repartition cuts them into blocks of `BLOCK` rows; `map_batches` scores each block with
Consistency and sketches it for the corpus validators (a Conflict shard, a Coverage tally). The driver
receives the blocks in data order (Ray Data's `preserve_order`, never the order tasks finish in), writes
the ledgers and the spill, and merges the shards: a sum of Conflict shards is the Conflict of their
concatenation, so the duplicate search sees exactly what the local engine sees.

Pass two decides fates on the driver, in data order (a near duplicate is dropped only when a partner
was already kept, a sequential rule), puts the kept dialogues into the object store in blocks, and
`map_batches` augments and exports them; the driver writes the files in data order.

This is the only module that imports Ray.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import socket
import traceback
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import msgspec

from dialogdata._run import Derived, Failed, Run, _Derive, _derive_batch, _validated
from dialogdata._spill import DECODER
from dialogdata.errors import DialogdataError, UsageError
from dialogdata.ingest import Reader
from dialogdata.schemas import Dialogue
from dialogdata.validators import Consistency
from dialogdata.validators.conflict import Conflict
from dialogdata.validators.coverage import Coverage

INSTALL = 'pip install "dialogdata[ray]"'
BLOCK = 1024
"""Rows per Ray block: the unit of parallel work and of the partial sketches the driver merges."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a cluster address to answer before giving up."""

_ENCODER = msgspec.msgpack.Encoder()
_DIALOGUE = msgspec.msgpack.Decoder(Dialogue)
_CACHED = 8
_CACHE: dict[str, Any] = {}
"""A stage's state, unpickled once per Ray worker process rather than once per block."""

Table = Any
"""A `pyarrow.Table` (pyarrow has no type hints)."""


def import_ray() -> ModuleType:
    """Return the `ray` module with Ray Data loaded, or raise a one-line error with the install command."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise UsageError(f"--engine ray needs Ray Data, which is not installed: {INSTALL}") from None
    return ray


@contextlib.contextmanager
def session(address: str | None, cpus: int | None) -> Iterator[None]:
    """Join the Ray cluster at `address`, or start a local instance with `cpus` CPUs (all when None)."""
    ray = import_ray()
    started = not ray.is_initialized()
    if started and address:
        _check_reachable(address)
    if started:
        # "local" starts a fresh instance even when RAY_ADDRESS names another one.
        try:
            ray.init(address=address or "local", num_cpus=None if address else cpus, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise UsageError(f"cannot start or join {where}: {_first_line(exc)}") from None
    _configure(ray)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _check_reachable(address: str) -> None:
    """Fail fast when nothing listens at a cluster address (Ray itself retries for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise UsageError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start it with "
            "`ray start --head` on that machine, or leave out --ray-address to run a local instance"
        ) from None


def _configure(ray: ModuleType) -> None:
    """Keep blocks in data order and keep Ray's own progress bars and logs off the user's terminal."""
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


class RayRun(Run):
    """A run whose per-dialogue stages and sketches run on Ray Data; the decisions stay on the driver."""

    @property
    def remote(self) -> bool:
        """The augmenters always run in Ray workers."""
        return True

    def _first_pass(self, reader: Reader) -> None:
        """Read, score and sketch on Ray; write ledgers and spill here in data order; merge the sketches."""
        ray = import_ray()
        shards: list[Conflict] = []
        if reader.files:
            items = [{"data": pickle.dumps(item)} for item in reader.files]
            read = _shared(_read, reader.detached())
            stages = self.stages
            score = _shared(_score, (stages.consistency, stages.conflict.shard(), stages.coverage))
            dataset = (
                ray.data.from_items(items, override_num_blocks=len(items))
                .map_batches(read[0], batch_size=1, batch_format="pyarrow", fn_kwargs=read[1])
                .repartition(target_num_rows_per_block=BLOCK)
                .map_batches(score[0], batch_size=None, batch_format="pyarrow", fn_kwargs=score[1])
            )
            for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                shards.extend(self._receive(table, reader))
        self.stages.conflict = sum(shards, self.stages.conflict)
        self.spill.close()

    def _receive(self, table: Table, reader: Reader) -> list[Conflict]:
        """Handle one block of pass one's rows in order; return its Conflict shards."""
        shards = []
        scored = 0
        for kind, data in _rows(table):
            if kind == "scored":
                dialogue, issues = DECODER.decode(data)
                self._scored(dialogue, issues, data)
                scored += 1
            elif kind == "failed":
                self.failed.append(pickle.loads(data))
            elif kind == "shard":
                conflict, tally = pickle.loads(data)
                shards.append(conflict)
                self.stages.coverage.absorb(tally)
            elif kind == "reject":
                self.reject(pickle.loads(data))
            elif kind == "report":
                reader.reports.append(pickle.loads(data))
            elif kind == "skipped":
                reader.skipped.append(pickle.loads(data))
            else:
                _raise(data)
        self.progress.advance("read and validate", scored)
        return shards

    def _derived(self, state: _Derive) -> Iterator[list[Derived]]:
        """Decide here, then augment and export the kept dialogues on Ray, block by block in data order."""
        ray = import_ray()
        import pyarrow as pa

        refs, block = [], []
        for dialogue in self._decided():
            block.append(_ENCODER.encode(dialogue))
            if len(block) == BLOCK:
                refs.append(ray.put(pa.table({"data": pa.array(block, pa.binary())})))
                block = []
        if block:
            refs.append(ray.put(pa.table({"data": pa.array(block, pa.binary())})))
        if not refs:
            return
        derive = _shared(_derive, state)
        dataset = ray.data.from_arrow_refs(refs).map_batches(
            derive[0], batch_size=None, batch_format="pyarrow", fn_kwargs=derive[1]
        )
        for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            for kind, data in _rows(table):
                if kind != "derived":
                    _raise(data)
                yield pickle.loads(data)


def _shared(function: Callable[..., Table], state: Any) -> tuple[Callable[..., Table], dict[str, Any]]:
    """Return a stage function and its keyword arguments: the state pickled once, under a key of its own."""
    return function, {"key": uuid.uuid4().hex, "blob": pickle.dumps(state)}


def _state(key: str, blob: bytes) -> Any:
    """Return a stage's state, unpickling it only the first time this worker process sees it."""
    if key not in _CACHE:
        # A worker serves every stage of a run in turn: keep a few states, not one per run ever seen.
        if len(_CACHE) >= _CACHED:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = pickle.loads(blob)
    return _CACHE[key]


def _read(batch: Table, key: str, blob: bytes) -> Iterator[Table]:
    """Read one input file (a Ray task): its dialogues and rejects in order, then its reports and skips."""
    rows: list[tuple[str, bytes]] = []
    try:
        reader: Reader = _state(key, blob).detached()
        reader.on_reject = lambda reject: rows.append(("reject", pickle.dumps(reject)))
        for blob_item in batch.column("data").to_pylist():
            for dialogue in reader.read_input(pickle.loads(blob_item)):
                rows.append(("dialogue", _ENCODER.encode(dialogue)))
                if len(rows) >= BLOCK:
                    yield _table(rows)
                    rows = []
        rows.extend(("report", pickle.dumps(report)) for report in reader.reports)
        rows.extend(("skipped", pickle.dumps(skipped)) for skipped in reader.skipped)
    except Exception as exc:  # sent to the driver, which raises it as the local engine would
        rows.append(("error", _error(exc)))
    yield _table(rows)


def _score(batch: Table, key: str, blob: bytes) -> Table:
    """Score a block with Consistency and sketch it into a Conflict shard and a Coverage tally."""
    rows: list[tuple[str, bytes]] = []
    try:
        state: tuple[Consistency, Conflict, Coverage] = _state(key, blob)
        consistency, empty, every = state
        shard, coverage = empty.shard(), every.fresh()
        for kind, data in _rows(batch):
            if kind != "dialogue":
                rows.append((kind, data))
                continue
            item = _validated(consistency, _DIALOGUE.decode(data))
            if isinstance(item, Failed):
                rows.append(("failed", pickle.dumps(item)))
                continue
            scored, issues = item
            shard.add(scored)
            coverage.add(scored)
            rows.append(("scored", _ENCODER.encode((scored, issues))))
        shard.seal()
        rows.append(("shard", pickle.dumps((shard, coverage.tally()))))
    except Exception as exc:  # sent to the driver
        rows.append(("error", _error(exc)))
    return _table(rows)


def _derive(batch: Table, key: str, blob: bytes) -> Table:
    """Augment and export a block of kept dialogues; one row holds the block's results."""
    try:
        dialogues = [_DIALOGUE.decode(data) for data in batch.column("data").to_pylist()]
        row = ("derived", pickle.dumps(_derive_batch(_state(key, blob), dialogues)))
    except Exception as exc:  # sent to the driver
        row = ("error", _error(exc))
    return _table([row])


def _rows(table: Table) -> Iterator[tuple[str, bytes]]:
    """Iterate the (kind, data) rows of an Arrow table."""
    return zip(table.column("kind").to_pylist(), table.column("data").to_pylist(), strict=True)


def _table(rows: list[tuple[str, bytes]]) -> Table:
    """Return rows of (kind, data) as an Arrow table with a fixed schema."""
    import pyarrow as pa

    kinds, datas = zip(*rows, strict=True) if rows else ((), ())
    return pa.table({"kind": pa.array(kinds, pa.string()), "data": pa.array(datas, pa.binary())})


def _error(exc: Exception) -> bytes:
    """Pickle what the driver needs to raise a worker's exception: its class if ours, message, traceback."""
    kind = type(exc) if isinstance(exc, DialogdataError) else None
    return pickle.dumps((kind, str(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc()))


def _raise(data: bytes) -> None:
    """Raise the exception a worker sent: ours as the same one-line error, any other as a failure."""
    kind, message, summary, trace = pickle.loads(data)
    if kind is not None:
        raise kind(message)
    raise RuntimeError(f"a Ray worker failed: {summary}\n{trace}")


def _first_line(exc: BaseException) -> str:
    """Return the first line of an exception's message."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
