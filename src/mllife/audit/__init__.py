"""Data audit: :func:`profile`, :func:`audit`, :class:`AuditReport` and the check registry.

``mllife.audit`` is a package and a function: ``mllife.audit(df)`` runs
:func:`audit`, and ``mllife.audit.register_check`` adds a user check
(``unregister_check`` removes it; ``with mllife.audit.registered_checks(...):``
scopes registrations).
"""

from .._lazy import make_callable
from ..report import Finding
from ._audit import audit
from ._data import AuditData, ColumnInfo
from ._profile import profile
from ._registry import register_check, registered_checks, unregister_check
from ._report import AuditReport

__all__ = [
    "AuditData", "AuditReport", "ColumnInfo", "Finding", "audit", "profile", "register_check",
    "registered_checks", "unregister_check",
]

make_callable(__name__, "audit")
