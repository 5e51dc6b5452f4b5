from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from catalog.models import AuditEvent
from catalog.principal import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    organisation_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event to the audit log (in the caller's transaction)."""
    event = AuditEvent(
        actor=principal.actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        organisation_id=organisation_id,
        details=details,
    )
    session.add(event)
    return event
