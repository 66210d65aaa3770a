"""SQLModel tables and API schemas, one module per domain."""

from models import (
    base,  # noqa: F401  (sets the naming convention first)
    inventory,  # noqa: F401
    users,  # noqa: F401
)
from models import schools  # noqa: F401
from models import campaigns  # noqa: F401
from models import claims  # noqa: F401
from models import runs  # noqa: F401
from models import audit  # noqa: F401
