"""HealBot: an embeddable, deterministic decision engine for autonomous operations.

Feed an :class:`Engine` telemetry (metrics, logs, alerts, events) over a
:class:`Topology` and a :class:`Library` of failure signatures and actions;
ask it what to do with :meth:`Engine.evaluate`. HealBot never runs an action:
the host executes what it approves and reports the outcome back.

Times are timezone-aware :class:`datetime.datetime` values or epoch seconds;
``at=None`` means now (the only place HealBot reads a clock).
"""

from healbot._native import (
    DECISION_SCHEMA_VERSION,
    ENGINE_VERSION,
    Action,
    BlastRadius,
    Confidence,
    ConfidenceTerm,
    Decision,
    Diagnosis,
    Diagnostic,
    Engine,
    Evidence,
    GuardFailure,
    HealbotError,
    IngestReport,
    InternalError,
    InvalidArgumentError,
    Library,
    LibraryError,
    LimitExceeded,
    Node,
    RejectedAction,
    RootCause,
    SeriesHandle,
    SeriesSet,
    SignatureRef,
    SnapshotError,
    TelemetryError,
    Topology,
    TopologyError,
)

__version__ = ENGINE_VERSION

__all__ = [
    "DECISION_SCHEMA_VERSION",
    "ENGINE_VERSION",
    "Action",
    "BlastRadius",
    "Confidence",
    "ConfidenceTerm",
    "Decision",
    "Diagnosis",
    "Diagnostic",
    "Engine",
    "Evidence",
    "GuardFailure",
    "HealbotError",
    "IngestReport",
    "InternalError",
    "InvalidArgumentError",
    "Library",
    "LibraryError",
    "LimitExceeded",
    "Node",
    "RejectedAction",
    "RootCause",
    "SeriesHandle",
    "SeriesSet",
    "SignatureRef",
    "SnapshotError",
    "TelemetryError",
    "Topology",
    "TopologyError",
    "__version__",
]
