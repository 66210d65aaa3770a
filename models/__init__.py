"""SQLModel tables and API schemas, one module per domain."""

from models import (
    base,  # noqa: F401  (sets the naming convention first)
    inventory,  # noqa: F401
    users,  # noqa: F401
)
