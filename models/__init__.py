"""SQLModel tables and API schemas, one module per domain.

Every model module imports models.base first, which sets the metadata's naming convention.
"""

from models import (
    audit,
    base,
    campaigns,
    claims,
    files,
    inventory,
    pickup,
    printing,
    privacy,
    runs,
    schools,
    users,
)

__all__ = [
    "audit",
    "base",
    "campaigns",
    "claims",
    "files",
    "inventory",
    "pickup",
    "printing",
    "privacy",
    "runs",
    "schools",
    "users",
]
