"""Type stubs for the native module ``healbot._native`` (import ``healbot`` instead).

Times: every ``at`` argument is a timezone-aware :class:`datetime.datetime`,
epoch seconds (``float`` or ``int``), or ``None`` for now. Naive datetimes
are rejected with :class:`InvalidArgumentError`.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, Union, final

from typing_extensions import Buffer, TypeAlias

_Timestamp: TypeAlias = Union[datetime, float, int, None]
"""A timezone-aware datetime, epoch seconds, or None for now."""

_LabelsArg: TypeAlias = Union[Mapping[str, str], None]
"""Label pairs attaching an observation to a node (``{"service": "db"}``)."""

_JsonPayload: TypeAlias = Union[Mapping[str, Any], list[Any], tuple[Any, ...], str, bytes, bytearray]
"""A JSON payload: an already parsed dict (or other mapping), list or tuple, or its text."""

_TextPayload: TypeAlias = Union[str, bytes, bytearray]
"""A text payload."""

def _core_ingest_metric_loop(
    engine: Engine, name: str, value: float, labels: _LabelsArg, at: _Timestamp, n: int
) -> int:
    """Benchmark support: the core's ``ingest_metric`` called ``n`` times from Rust (``at`` + 1 ms each).

    Returns:
        How many calls a limit rejected.
    """

class _ArrayInterface(Protocol):
    """A numpy array (or anything with ``__array_interface__``), which also exports a buffer."""

    @property
    def __array_interface__(self) -> dict[str, Any]: ...

_Column: TypeAlias = Union[Buffer, _ArrayInterface]
"""A one-dimensional numeric column read through the buffer protocol (numpy array, array.array, memoryview)."""

_StrPath: TypeAlias = Union[str, "os.PathLike[str]"]

ENGINE_VERSION: str
"""The version of the engine."""

DECISION_SCHEMA_VERSION: int
"""The version of the decision document (``Decision.schema_version``)."""

def _library_from_state(state: tuple[list[tuple[str, str]], tuple[str, str, bool] | None]) -> Library:
    """Rebuilds a pickled :class:`Library` (used by ``pickle``)."""

def _topology_from_state(state: tuple[str, str, bool]) -> Topology:
    """Rebuilds a pickled :class:`Topology` (used by ``pickle``)."""

def _test_panic() -> None:
    """Test support only, never call it: panics inside the native module.

    Raises:
        InternalError: always, with the panic's message.
    """

def _engine_from_state(library: Library, topology: Topology, config: Mapping[str, Any], snapshot: bytes) -> Engine:
    """Rebuilds a pickled :class:`Engine` from its snapshot (used by ``pickle``)."""

class HealbotError(Exception):
    """The base of every error HealBot raises.

    Attributes:
        message: the error without its diagnostics.
        diagnostics: every diagnostic behind the error (may be empty).
    """

    message: str
    diagnostics: list[Diagnostic]

class LibraryError(HealbotError, ValueError):
    """A signature, action or overrides document is invalid.

    ``diagnostics`` lists every problem found, each with its file, line,
    column and path inside the document.
    """

class TopologyError(HealbotError):
    """A topology document is invalid (see ``diagnostics``), or a node is unknown."""

class TelemetryError(HealbotError):
    """A telemetry payload cannot be read at all."""

class LimitExceeded(HealbotError):
    """A configured limit rejected the input (payload size, series cardinality)."""

class SnapshotError(HealbotError):
    """A snapshot is corrupt, of another format version or of another library."""

class InvalidArgumentError(HealbotError, ValueError):
    """An argument is out of its domain: a naive datetime, an unknown format name, a bad config key."""

class InternalError(HealbotError):
    """HealBot panicked: a bug in HealBot, not a problem with the input.

    The message says what failed; please report it. An engine that raised
    it stays unusable (every later call raises it again): create a new one,
    from a snapshot taken earlier if need be.
    """

@final
class Diagnostic:
    """One problem found in a document: where, what, and what was expected."""

    @property
    def severity(self) -> Literal["error", "warning"]:
        """Errors make a load fail; warnings do not."""
    @property
    def code(self) -> str:
        """The stable class of the problem, e.g. ``"unknown-field"``."""
    @property
    def file(self) -> str:
        """The file (or source name) the document came from."""
    @property
    def line(self) -> int:
        """1-based line."""
    @property
    def column(self) -> int:
        """1-based column, in characters."""
    @property
    def path(self) -> str:
        """Path inside the document, e.g. ``"spec.signatures[3].match.all[1].window"``."""
    @property
    def message(self) -> str:
        """What is wrong, in one sentence."""
    @property
    def expected(self) -> str | None:
        """What the grammar expected there, when known."""
    @property
    def found(self) -> str | None:
        """What was found there, when useful."""
    @property
    def suggestion(self) -> str | None:
        """A plain fix, e.g. ``"did you mean `threshold`?"``."""
    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as a dict.

        Returns:
            A dict with ``severity``, ``kind``, ``file``, ``line``, ``column``,
            ``path``, ``message`` and, when present, ``expected``, ``found``
            and ``suggestion``.
        """
    def to_json(self) -> str:
        """The diagnostic as JSON (the same fields as :meth:`to_dict`)."""

@final
class Library:
    """A validated library of signatures and actions, overrides applied.

    Immutable and shareable: many engines and threads may use one. Picklable
    (it is rebuilt from its source text).
    """

    @staticmethod
    def load(*paths: _StrPath) -> Library:
        """Loads a library from files.

        Arguments:
            paths: files, or directories standing for every ``.yaml``,
                ``.yml`` and ``.json`` document below them (sorted).

        Returns:
            The compiled library.

        Raises:
            LibraryError: a document is invalid; ``diagnostics`` lists every problem.
            OSError: a file cannot be read.
        """
    @staticmethod
    def from_text(text: str, format: Literal["yaml", "json"] | None = None, name: str = "<text>") -> Library:
        """Loads a library from one text.

        Arguments:
            text: a YAML stream of one or more documents, or one JSON document.
            format: ``"yaml"`` or ``"json"``; None decides from ``name``
                (``.json`` is JSON, anything else YAML).
            name: the source name shown in diagnostics.

        Returns:
            The compiled library.

        Raises:
            LibraryError: the text is invalid; ``diagnostics`` lists every problem.
            InvalidArgumentError: an unknown format.
        """
    @staticmethod
    def from_sources(sources: Sequence[tuple[str, str]]) -> Library:
        """Loads a library from several ``(name, text)`` pairs, compiled together.

        Arguments:
            sources: pairs of source name and text; each format from its name.

        Returns:
            The compiled library.

        Raises:
            LibraryError: a document is invalid; ``diagnostics`` lists every problem.
        """
    @property
    def revision(self) -> str:
        """A stable content hash (16 hex digits), stamped on every decision."""
    @property
    def signatures(self) -> list[str]:
        """Signature ids, in load order."""
    @property
    def actions(self) -> list[str]:
        """Action ids, in load order."""
    @property
    def document_names(self) -> list[str]:
        """The names of the source documents, in load order."""
    def signature(self, id: str) -> dict[str, Any] | None:
        """A signature as its document (after overrides and macros).

        Arguments:
            id: the signature id.

        Returns:
            The signature as a dict, or None when there is none with that id.
        """
    def action(self, id: str) -> dict[str, Any] | None:
        """An action as its document (after overrides).

        Arguments:
            id: the action id.

        Returns:
            The action as a dict, or None when there is none with that id.
        """

@final
class Node:
    """One node of a topology."""

    @property
    def id(self) -> str:
        """The node id."""
    @property
    def kind(self) -> str:
        """``service``, ``database``, ``cache``, ``queue``, ``host``, ``pod``, ``load_balancer`` or ``external``."""
    @property
    def tier(self) -> int:
        """Tier, 1 (most critical) to 4."""
    @property
    def replicas(self) -> int:
        """Declared replicas."""
    @property
    def labels(self) -> dict[str, str]:
        """The node's labels."""
    @property
    def aliases(self) -> list[str]:
        """Other names telemetry may use for the node."""
    @property
    def shard(self) -> int:
        """The shard (connected part of the graph) the node belongs to."""

@final
class BlastRadius:
    """How many nodes depend on a node, transitively, and their tier weight."""

    @property
    def nodes(self) -> int:
        """How many nodes depend on the node, transitively."""
    @property
    def tier_weighted(self) -> float:
        """The sum of those nodes' tier weights (8, 4, 2, 1 for tiers 1 to 4)."""

@final
class Topology:
    """The compiled service dependency graph. Immutable, shareable and picklable.

    A node's *dependencies* are what it needs (transitively); its
    *dependents* are what needs it. Nodes are named by id or alias.
    """

    @staticmethod
    def load(path: _StrPath) -> Topology:
        """Loads a topology from a file.

        Arguments:
            path: a YAML or JSON (``.json``) Topology document.

        Returns:
            The compiled topology.

        Raises:
            TopologyError: the document is invalid; ``diagnostics`` lists every problem.
            OSError: the file cannot be read.
        """
    @staticmethod
    def from_text(text: str, format: Literal["yaml", "json"] | None = None, name: str = "<text>") -> Topology:
        """Loads a topology from text.

        Arguments:
            text: the Topology document.
            format: ``"yaml"`` or ``"json"``; None decides from ``name``.
            name: the source name shown in diagnostics.

        Returns:
            The compiled topology.

        Raises:
            TopologyError: the document is invalid; ``diagnostics`` lists every problem.
            InvalidArgumentError: an unknown format.
        """
    @property
    def nodes(self) -> list[str]:
        """Node ids, in the topology's node order."""
    @property
    def shards(self) -> list[list[str]]:
        """Every shard's node ids, indexed by shard number."""
    def node(self, node: str) -> Node:
        """A node by id or alias.

        Raises:
            TopologyError: unknown node.
        """
    def dependencies(self, node: str) -> list[str]:
        """Everything ``node`` needs, transitively, nearest first.

        Arguments:
            node: a node id or alias.

        Returns:
            Node ids, breadth-first.

        Raises:
            TopologyError: unknown node.
        """
    def dependents(self, node: str) -> list[str]:
        """Everything that needs ``node``, transitively: its blast radius as a list.

        Arguments:
            node: a node id or alias.

        Returns:
            Node ids, breadth-first.

        Raises:
            TopologyError: unknown node.
        """
    def blast_radius(self, node: str) -> BlastRadius:
        """How many nodes depend on ``node``, and their tier weight.

        Raises:
            TopologyError: unknown node.
        """
    def path_to_dependency(self, source: str, target: str) -> list[str] | None:
        """A shortest chain of dependencies from ``source`` to ``target``.

        Returns:
            Node ids from ``source`` to ``target`` (both included), or None
            when ``target`` is not a dependency of ``source``.

        Raises:
            TopologyError: unknown node.
        """
    def shard_of(self, node: str) -> int:
        """The shard (connected part of the graph) ``node`` belongs to.

        Raises:
            TopologyError: unknown node.
        """
    def __len__(self) -> int: ...
    def __contains__(self, node: object, /) -> bool: ...

@final
class IngestReport:
    """What a payload or batch ingestion did."""

    @property
    def observations(self) -> int:
        """Observations parsed from the payload (or samples given in a batch)."""
    @property
    def errors(self) -> list[str]:
        """Malformed records, each with its position; the other records were kept."""
    @property
    def dropped(self) -> int:
        """Records dropped by a limit (also counted in ``Engine.stats()``)."""
    def to_dict(self) -> dict[str, Any]:
        """The report as a dict."""
    def to_json(self) -> str:
        """The report as JSON."""

@final
class Evidence:
    """One predicate as evaluated: what was observed, against what, and whether it held."""

    @property
    def path(self) -> str:
        """Where the predicate sits in the signature, e.g. ``"match.all[1].metric"``."""
    @property
    def id(self) -> str | None:
        """The predicate's id, when it has one."""
    @property
    def predicate(self) -> str:
        """The predicate for people, e.g. ``"avg(cpu[5m]) > 0.9"``."""
    @property
    def observed(self) -> float | None:
        """The observed value; None when there was no data."""
    @property
    def op(self) -> str | None:
        """The comparison (``">"``), for predicates that compare."""
    @property
    def threshold(self) -> float | None:
        """The threshold, for predicates that compare."""
    @property
    def window(self) -> str | None:
        """The window the value covers (``"5m"``), when there is one."""
    @property
    def satisfied(self) -> bool:
        """Whether the predicate held."""
    @property
    def role(self) -> Literal["required", "evidence", "exception"]:
        """Part of ``match``, a weighted evidence item, or a structured exception."""
    @property
    def weight(self) -> float | None:
        """The weight of an evidence item; None for the other roles."""
    @property
    def note(self) -> str | None:
        """A short remark (``"no data"``, ``"3 of 4 held"``)."""
    def to_dict(self) -> dict[str, Any]:
        """The item as a dict."""
    def to_json(self) -> str:
        """The item as JSON."""

@final
class Diagnosis:
    """A signature matched on a node at a time, with the evidence that made it."""

    @property
    def signature(self) -> str:
        """The signature id."""
    @property
    def node(self) -> str:
        """The node id."""
    @property
    def category(self) -> str:
        """The signature's category (``unavailable``, ``saturation``, ...)."""
    @property
    def severity(self) -> str:
        """The signature's severity."""
    @property
    def status(self) -> str:
        """``stable`` or ``experimental``."""
    @property
    def onset(self) -> datetime:
        """When the match condition first held (UTC)."""
    @property
    def at(self) -> datetime:
        """The evaluation time (UTC)."""
    @property
    def evidence(self) -> list[Evidence]:
        """Every predicate of ``match`` and ``evidence``, evaluated."""
    @property
    def coverage(self) -> float:
        """Share of the series the signature reads that had fresh data, in [0, 1]."""
    @property
    def forecast(self) -> bool:
        """Whether the diagnosis comes from a forecast (a notice)."""
    def to_dict(self) -> dict[str, Any]:
        """The diagnosis as a dict (times in Unix milliseconds)."""
    def to_json(self) -> str:
        """The diagnosis as JSON."""

@final
class SignatureRef:
    """The signature behind a decision."""

    @property
    def id(self) -> str:
        """Signature id."""
    @property
    def title(self) -> str:
        """Title."""
    @property
    def category(self) -> str:
        """Category."""
    @property
    def severity(self) -> str:
        """Severity."""
    @property
    def status(self) -> str:
        """``stable`` or ``experimental``."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""

@final
class ConfidenceTerm:
    """One additive term of a confidence, in log-odds."""

    @property
    def name(self) -> str:
        """``prior``, ``evidence``, ``coverage``, ``topology`` or ``outcomes``."""
    @property
    def value(self) -> float:
        """Contribution in log-odds."""
    @property
    def detail(self) -> str:
        """What the term is made of, for people."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""

@final
class Confidence:
    """A confidence with every term that built it. ``float(c)`` is its value."""

    @property
    def value(self) -> float:
        """The probability, in [0, 1]."""
    @property
    def log_odds(self) -> float:
        """The log-odds the value comes from (the sum of the terms)."""
    @property
    def terms(self) -> list[ConfidenceTerm]:
        """The terms, in a fixed order."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""
    def __float__(self) -> float: ...

@final
class RootCause:
    """The root-cause verdict of a decision: a ranked candidate, a symptom, or an inferred suspect."""

    @property
    def role(self) -> Literal["root", "symptom", "inferred_suspect"]:
        """The role of the decision's node in the failure."""
    @property
    def node(self) -> str:
        """The root-cause node (the decision's node when it is a root)."""
    @property
    def signature(self) -> str | None:
        """The signature diagnosed on the root cause, when there is one."""
    @property
    def path(self) -> list[str]:
        """The dependency path from the decision's node to the root cause."""
    @property
    def rank(self) -> int | None:
        """Rank among root-cause candidates (1 is the most likely), for roots."""
    @property
    def score(self) -> float | None:
        """Ranking score, for roots."""
    @property
    def explains(self) -> list[str]:
        """Nodes whose diagnoses this root explains."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""

@final
class Action:
    """The action HealBot chose: what the host would execute."""

    @property
    def id(self) -> str:
        """Action id."""
    @property
    def operation(self) -> str:
        """The verb the host executes (``restart``, ``failover``, ...)."""
    @property
    def target(self) -> str:
        """The resolved target node."""
    @property
    def parameters(self) -> dict[str, Any]:
        """Parameters, verbatim from the library."""
    @property
    def risk(self) -> str:
        """``low``, ``medium`` or ``high``."""
    @property
    def min_confidence(self) -> float:
        """The confidence needed to run unattended."""
    @property
    def guards_passed(self) -> list[str]:
        """Guards checked, all passed."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""

@final
class GuardFailure:
    """A guard that failed, with the numbers behind it."""

    @property
    def guard(self) -> str:
        """The guard kind, e.g. ``"min_healthy_replicas"``."""
    @property
    def reason(self) -> str:
        """What failed, for people."""
    @property
    def observed(self) -> float | None:
        """The observed number, when there is one."""
    @property
    def limit(self) -> float | None:
        """The limit, when there is one."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""

@final
class RejectedAction:
    """A candidate action that was considered and rejected, with every guard it failed."""

    @property
    def id(self) -> str:
        """Action id."""
    @property
    def target(self) -> str | None:
        """The resolved target, when one resolved."""
    @property
    def failed(self) -> list[GuardFailure]:
        """Every guard that failed."""
    def to_dict(self) -> dict[str, Any]:
        """As a dict."""
    def to_json(self) -> str:
        """As JSON."""

@final
class Decision:
    """One decision: a verdict with its confidence, evidence, root cause and action.

    Verdicts: ``execute`` (run unattended), ``escalate`` (a person must
    approve; see ``reasons``), ``suppress`` (a symptom of a root cause
    elsewhere), ``blocked`` (every candidate action failed a guard),
    ``observe`` (nothing to do, or a forecast notice).
    """

    @classmethod
    def from_json(cls, text: str) -> Decision:
        """Parses a decision document.

        Arguments:
            text: a document as written by :meth:`to_json`.

        Returns:
            The decision.

        Raises:
            InvalidArgumentError: the text is not a decision document.
        """
    @property
    def schema_version(self) -> int:
        """The version of the decision document."""
    @property
    def id(self) -> str:
        """Deterministic id from signature, node and onset (pass it to ``record_execution``)."""
    @property
    def library_revision(self) -> str:
        """The library revision that produced the decision."""
    @property
    def at(self) -> datetime:
        """Evaluation time (UTC)."""
    @property
    def at_ms(self) -> int:
        """Evaluation time, Unix milliseconds."""
    @property
    def node(self) -> str:
        """The node."""
    @property
    def signature(self) -> SignatureRef | None:
        """The signature; None for inferred suspects."""
    @property
    def onset(self) -> datetime:
        """When the failure began (UTC)."""
    @property
    def onset_ms(self) -> int:
        """When the failure began, Unix milliseconds."""
    @property
    def verdict(self) -> Literal["execute", "escalate", "suppress", "blocked", "observe"]:
        """What the host should do."""
    @property
    def reasons(self) -> list[str]:
        """Why this verdict (and not execute)."""
    @property
    def confidence(self) -> Confidence:
        """Confidence and every term that built it."""
    @property
    def evidence(self) -> list[Evidence]:
        """Every predicate evaluated."""
    @property
    def root_cause(self) -> RootCause:
        """Root-cause verdict."""
    @property
    def action(self) -> Action | None:
        """The chosen action, if any."""
    @property
    def rejected(self) -> list[RejectedAction]:
        """Rejected candidate actions with their failed guards."""
    @property
    def explanation(self) -> str:
        """One paragraph for a person."""
    def to_dict(self) -> dict[str, Any]:
        """The decision document as a dict (times in Unix milliseconds)."""
    def to_json(self) -> str:
        """The stable, versioned decision document, one line of JSON."""
    def __hash__(self) -> int:
        """By the decision id: decisions can be set members and dict keys."""
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickles as the decision document (``from_json`` of ``to_json``)."""

@final
class SeriesHandle:
    """A resolved series of one engine, from :meth:`Engine.resolve_series`.

    Ingesting through a handle skips converting and hashing the metric name
    and labels: the fastest scalar path.
    """

    @property
    def name(self) -> str:
        """The metric name."""

@final
class SeriesSet:
    """Many resolved series of one engine, from :meth:`Engine.resolve_series_set`.

    Scrapes of the same series then cross into Rust as bare numeric columns
    (:meth:`Engine.ingest_series_set`), with no names or labels to convert.
    """

    @property
    def resolved(self) -> int:
        """How many series are stored; the others are read by no signature or attach
        to no node, and are counted in :meth:`Engine.stats` once when resolved and
        then once per sample."""
    def __len__(self) -> int: ...

@final
class Engine:
    """A decision engine for one topology shard: feed it telemetry, ask it what to do.

    Thread-safe: calls from several threads are serialised on the engine,
    and calls that take time release the GIL. What attaches to no node, or
    is dropped by a limit, is counted in :meth:`stats`, never silently lost.
    A call that raised :class:`InternalError` leaves the engine unusable.
    """

    def __new__(cls, library: Library, topology: Topology, config: Mapping[str, Any] | None = None) -> Engine:
        """An engine over a library and a topology.

        Arguments:
            library: the compiled library.
            topology: the compiled topology.
            config: engine settings (``max_series``, ``staleness="5m"``, ...;
                see :attr:`config` for every key and its default).

        Raises:
            InvalidArgumentError: an unknown or malformed setting.
            LibraryError: the library cannot be compiled for evaluation.
        """
    @staticmethod
    def restore(
        library: Library, topology: Topology, snapshot: bytes, config: Mapping[str, Any] | None = None
    ) -> Engine:
        """An engine with the state of a snapshot taken by :meth:`snapshot`.

        Arguments:
            library: the library the snapshot was taken with (same revision).
            topology: the topology the snapshot was taken with.
            snapshot: the bytes from :meth:`snapshot`.
            config: engine settings; limits come from here, not from the snapshot.

        Returns:
            The restored engine.

        Raises:
            SnapshotError: the bytes are not a snapshot, are corrupt, or are of
                another format version, library revision or topology.
            InvalidArgumentError: an unknown or malformed setting.
        """
    def snapshot(self) -> bytes:
        """The engine's state (windows, alerts, counters, ledger, posteriors) as bytes.

        Engines also pickle through snapshots, so they can be shipped to workers.

        Returns:
            Bytes for :meth:`restore`.
        """
    def __reduce__(self) -> tuple[Any, tuple[Library, Topology, dict[str, Any], bytes]]: ...
    def reload_library(self, library: Library) -> None:
        """Replaces the library, keeping the engine's state.

        The new library is compiled fully first; on error the old one stays in use.
        Decisions carry the new library revision from then on.

        Raises:
            LibraryError: the new library cannot be compiled for evaluation.
        """
    def evaluate(self, at: _Timestamp = None) -> list[Decision]:
        """Evaluates every signature and decides, for every diagnosis, what the host should do.

        The result depends only on the observations, the ledger and ``at``:
        the same inputs give byte-identical decision documents.

        Arguments:
            at: the evaluation time; None is now (the only clock HealBot reads).

        Returns:
            Decisions sorted by node, then signature.

        Raises:
            InvalidArgumentError: a naive datetime.
        """
    def record_execution(
        self,
        decision: Decision | str,
        action: str | None = None,
        target: str | None = None,
        at: _Timestamp = None,
        unattended: bool = True,
    ) -> bool:
        """Records that the host executed an action for a decision (idempotent).

        Arguments:
            decision: the decision, or its id.
            action: the action id; defaults to the decision's chosen action.
            target: the target node; defaults to the decision's chosen target.
            at: when it ran; None is now.
            unattended: False when a person approved it (budgets count unattended runs).

        Returns:
            True when recorded, False when this decision's execution was already recorded.

        Raises:
            InvalidArgumentError: an unknown action or node, no action to default
                to, or a dry-run engine.
        """
    def record_outcome(self, decision: Decision | str, success: bool, at: _Timestamp = None) -> bool:
        """Records the outcome of an executed decision (idempotent).

        Outcomes feed cooldowns, the circuit breaker and the confidence of
        later decisions.

        Arguments:
            decision: the decision, or its id.
            success: whether the action fixed the problem.
            at: when the outcome was known; None is now.

        Returns:
            True when recorded, False when already recorded.

        Raises:
            InvalidArgumentError: no execution was recorded for the decision, or a dry-run engine.
        """
    def resolve_series(self, name: str, labels: _LabelsArg = None) -> SeriesHandle | None:
        """Resolves the series of ``name`` with ``labels`` once, for repeated ingestion.

        Arguments:
            name: the metric name.
            labels: label pairs attaching the series to a node.

        Returns:
            A handle for :meth:`ingest_series`, or None when no signature reads
            the metric or the labels attach to no node (both counted in :meth:`stats`).

        Raises:
            LimitExceeded: the series limit rejected a new series.
        """
    def ingest_series(self, series: SeriesHandle, value: float, at: _Timestamp = None) -> None:
        """Ingests one sample into a resolved series.

        Arguments:
            series: a handle from this engine's :meth:`resolve_series`.
            value: the sample value.
            at: the sample time; None is now.

        Raises:
            InvalidArgumentError: the handle belongs to another engine, or a naive datetime.
        """
    def resolve_series_set(
        self, names: str | Iterable[str], labels: _LabelsArg | Iterable[Mapping[str, str]] = None
    ) -> SeriesSet:
        """Resolves many series at once, for ingesting scrapes as bare numeric columns.

        Arguments:
            names: one metric name for every series, or one per series (any iterable).
            labels: one label mapping for every series, or one per series (any iterable).

        Returns:
            The set, in the order given.

        Raises:
            LimitExceeded: the series limit rejected some series.
            ValueError: ``names`` and ``labels`` of different lengths.
        """
    def ingest_series_set(
        self,
        series: SeriesSet,
        values: _Column,
        timestamps: _Column | _Timestamp = None,
        codes: _Column | None = None,
    ) -> IngestReport:
        """Ingests numeric columns into a resolved series set, reading them in place.

        Arguments:
            series: a set from this engine's :meth:`resolve_series_set`.
            values: one value per row.
            timestamps: a column (floats are epoch seconds, integers Unix
                milliseconds), one time for every row, or None for now.
            codes: an integer column mapping row ``i`` to series ``codes[i]``;
                None maps row ``i`` to series ``i`` (one scrape of the whole set).

        Returns:
            What was ingested; rows with a timestamp or code out of range are dropped and counted.

        Raises:
            InvalidArgumentError: the set belongs to another engine, or a naive datetime.
            ValueError: columns of different lengths, or no codes and a length other than the set's.
            TypeError: a column is not a numeric buffer, or ``codes`` is not integer.
        """
    @property
    def library(self) -> Library:
        """The library in use."""
    @property
    def topology(self) -> Topology:
        """The topology in use."""
    @property
    def config(self) -> dict[str, Any]:
        """The engine settings (durations as strings such as ``"5m"``)."""
    def ingest_metric(self, name: str, value: float, labels: _LabelsArg = None, at: _Timestamp = None) -> None:
        """Ingests one metric sample.

        Arguments:
            name: the metric name.
            value: the sample value.
            labels: label pairs; the topology's ``attach_by`` keys attach it to a node.
            at: the sample time; None is now.

        Raises:
            LimitExceeded: the series limit rejected a new series.
            InvalidArgumentError: a naive datetime.
        """
    def ingest_metrics(
        self,
        names: str | Iterable[str],
        values: _Column,
        timestamps: _Column | _Timestamp = None,
        labels: _LabelsArg | Iterable[Mapping[str, str]] = None,
        series: _Column | None = None,
    ) -> IngestReport:
        """Ingests a batch of samples given as columns, reading the numeric columns in place.

        ``values``, ``timestamps`` and ``series`` are read through the buffer
        protocol without copying: numpy arrays, ``array.array``,
        ``memoryview``. numpy is not required. The GIL is released while the
        samples are stored.

        Arguments:
            names: one metric name for every row, or one per row (one per
                series with ``series``): a list, a numpy str array, any iterable.
            values: a one-dimensional numeric column (float64, float32 or integers).
            timestamps: a numeric column of the same length (floats are epoch
                seconds, integers Unix milliseconds), one time for every row, or
                None for now.
            labels: one label mapping for every row, or one per row (one per
                series with ``series``). Rows that share a dict object share
                its conversion.
            series: optional integer column of the same length giving each
                row's series as an index into ``names`` and ``labels`` (like
                categorical codes), so that per-row Python objects are not needed.

        Returns:
            What was ingested; ``dropped`` counts rows rejected by a limit or
            with a timestamp or series code out of range (see ``errors``).

        Raises:
            TypeError: a column is not a numeric buffer, or ``series`` is not integer.
            ValueError: columns of different lengths, or not one-dimensional.
            InvalidArgumentError: a naive datetime.
        """
    def ingest_log(
        self, body: str, labels: _LabelsArg = None, at: _Timestamp = None, severity: str | None = None
    ) -> None:
        """Ingests one log record; every log pattern is matched in one pass, the line is not kept.

        Arguments:
            body: the message.
            labels: attributes attaching it to a node.
            at: the record time; None is now.
            severity: ``trace``, ``debug``, ``info``, ``warn``, ``error``,
                ``fatal`` (or a common synonym), or None.

        Raises:
            InvalidArgumentError: an unknown severity or a naive datetime.
        """
    def ingest_logs(
        self,
        lines: str | bytes | bytearray | memoryview | Sequence[str | bytes],
        labels: _LabelsArg = None,
        at: _Column | _Timestamp = None,
        severity: str | None = None,
    ) -> IngestReport:
        """Ingests many log lines of one source (a file, a pod, a stream) in one call, with the GIL
        released (unless the lines are a few KiB at most, which take less time than releasing it).

        Far cheaper per line than ``ingest_log`` or NDJSON: no call, no JSON and
        no label conversion per line; each line is matched against every log
        pattern in one pass and not kept. A blob with one time for every line is
        the fastest form: it is checked for UTF-8 once, and a line holding no
        literal of the library's log patterns costs only the search for them.

        Arguments:
            lines: a blob of newline-separated lines (``str``, ``bytes``,
                ``bytearray``, ``memoryview``; a final newline ends the last
                line and ``\r\n`` endings lose the ``\r``), or a sequence of
                lines (``str`` or ``bytes``), each one record. Bytes that are
                not UTF-8 are replaced with U+FFFD.
            labels: attributes attaching every line to a node.
            at: one time for every line (None is now), or a numeric column of
                one time per line (floats are epoch seconds, integers Unix
                milliseconds).
            severity: one severity for every line, as in ``ingest_log``.

        Returns:
            ``observations`` is the number of lines; ``dropped`` counts lines
            over ``max_log_line_len`` and lines whose time is out of range
            (those are also listed in ``errors``).

        Raises:
            InvalidArgumentError: an unknown severity or a naive datetime.
            TypeError: ``lines`` is none of the above.
            ValueError: ``at`` is a column of another length than ``lines``.
        """
    def ingest_alertmanager(self, payload: _JsonPayload) -> IngestReport:
        """Ingests an Alertmanager webhook (v4) payload.

        Arguments:
            payload: the webhook body, parsed (dict) or as text.

        Returns:
            What was ingested; malformed alerts are listed in ``errors``.

        Raises:
            TelemetryError: the payload cannot be read at all.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def ingest_prometheus_text(self, text: _TextPayload, at: _Timestamp = None) -> IngestReport:
        """Ingests Prometheus text exposition (0.0.4).

        Arguments:
            text: the exposition.
            at: the time of samples without a timestamp; None is now.

        Returns:
            What was ingested; malformed lines are listed in ``errors``.

        Raises:
            TelemetryError: the payload cannot be read at all.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def ingest_otlp_json(self, payload: _JsonPayload, signal: Literal["logs", "metrics"] | None = None) -> IngestReport:
        """Ingests OTLP/JSON logs (``resourceLogs``) or metrics (``resourceMetrics``).

        Arguments:
            payload: the export request, parsed or as text.
            signal: ``"logs"`` or ``"metrics"``; None tells them apart by the top-level key.

        Returns:
            What was ingested.

        Raises:
            TelemetryError: the payload cannot be read, or its signal cannot be told.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def ingest_k8s_events(self, payload: _JsonPayload) -> IngestReport:
        """Ingests Kubernetes Events (core v1 or events.k8s.io/v1; a list or one event).

        Raises:
            TelemetryError: the payload cannot be read at all.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def ingest_pagerduty(self, payload: _JsonPayload, at: _Timestamp = None) -> IngestReport:
        """Ingests PagerDuty Events API v2 events.

        Arguments:
            payload: one event or a list, parsed or as text.
            at: the time of events without a timestamp; None is now.

        Raises:
            TelemetryError: the payload cannot be read at all.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def ingest_ndjson(self, payload: _TextPayload) -> IngestReport:
        """Ingests HealBot's newline-delimited JSON observations.

        Raises:
            TelemetryError: the payload cannot be read at all.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def ingest_payload(self, format: str, payload: _JsonPayload, at: _Timestamp = None) -> IngestReport:
        """Ingests a payload in a format named at run time.

        Arguments:
            format: ``alertmanager``, ``prometheus_text``, ``otlp_logs``,
                ``otlp_metrics``, ``k8s_events``, ``pagerduty`` or ``ndjson``.
            payload: the payload, parsed (for JSON formats) or as text.
            at: the time of records without one; None is now.

        Raises:
            InvalidArgumentError: an unknown format.
            TelemetryError: the payload cannot be read at all.
            LimitExceeded: the payload is over ``max_payload_bytes``.
        """
    def set_node_health(self, node: str, health: Literal["healthy", "unhealthy"] | None) -> None:
        """Sets (or with None clears) the host's view of a node's health, which overrides diagnoses.

        Raises:
            TopologyError: unknown node.
            InvalidArgumentError: an unknown health value.
        """
    def diagnose(self, at: _Timestamp = None) -> list[Diagnosis]:
        """Every signature that matches at ``at``, without decisions.

        Arguments:
            at: the evaluation time; None is now.

        Returns:
            Diagnoses sorted by node and signature.
        """
    def stats(self) -> dict[str, Any]:
        """Counters a host can export.

        Returns:
            ``ingested`` by kind, ``unattached`` and ``dropped`` by reason,
            live ``series``, firing ``alerts``, ``exceptions``, ``evaluations``.
        """
    def _test_panic(self) -> None:
        """Test support only, never call it: panics while holding the engine's lock.

        Raises:
            InternalError: always; every later call on the engine raises it too.
        """
