"""Stock: items and kit recipes, lots, locations, the append-only ledger and the level table."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, INT32_MAX, Id, Int32, Required, Stripped, utcnow


class LocationKind(StrEnum):
    warehouse = "warehouse"
    pickup_point = "pickup_point"
    vehicle = "vehicle"


class MovementKind(StrEnum):
    receive = "receive"
    transfer = "transfer"
    assemble = "assemble"
    reserve = "reserve"
    release = "release"
    issue = "issue"
    returned = "return"
    adjust = "adjust"


class AdjustReason(StrEnum):
    count_correction = "count_correction"
    damaged = "damaged"
    expired = "expired"
    lost = "lost"
    found = "found"
    other = "other"


# ---------------------------------------------------------------- items


class ItemBase(SQLModel):
    sku: Required = Field(max_length=40)
    name_zh: Required = Field(max_length=200)
    name_en: Required = Field(max_length=200)
    unit: Required = Field(default="piece", max_length=20)
    tracks_lot: bool = True
    tracks_expiry: bool = False
    low_stock_threshold: int = Field(default=0, ge=0, le=INT32_MAX)
    is_kit: bool = False


class Item(ItemBase, table=True):
    __table_args__ = (
        UniqueConstraint("sku"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold"),
    )
    id: int | None = Field(default=None, primary_key=True)


class ItemCreate(ItemBase):
    model_config = FORBID_EXTRA


class ItemUpdate(SQLModel):
    """Fields to change; an omitted field keeps its value (none of them may be null)."""

    model_config = FORBID_EXTRA
    # The default None only marks "not sent": an explicit null is refused.
    name_zh: Required = Field(default=None, max_length=200)
    name_en: Required = Field(default=None, max_length=200)
    unit: Required = Field(default=None, max_length=20)
    low_stock_threshold: int = Field(default=None, ge=0, le=INT32_MAX)


class ItemPublic(ItemBase):
    id: int
    recipe: list["RecipeLinePublic"] = []


class RecipeLine(SQLModel, table=True):
    """One component of a kit: kit_item needs quantity of component_item."""

    __tablename__ = "recipe_line"
    __table_args__ = (
        UniqueConstraint("kit_item_id", "component_item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("kit_item_id <> component_item_id", name="not_self"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kit_item_id: int = Field(foreign_key="item.id", index=True)
    component_item_id: int = Field(foreign_key="item.id")
    quantity: int


class RecipeLineIn(SQLModel):
    model_config = FORBID_EXTRA
    component_item_id: Id
    quantity: int = Field(gt=0, le=100000)


class RecipeLinePublic(RecipeLineIn):
    model_config = ConfigDict(extra="ignore")
    sku: str
    name_zh: str
    name_en: str


# ---------------------------------------------------------------- lots and locations


class Lot(SQLModel, table=True):
    """A batch of one item; items that do not track lots have one lot coded '-'."""

    __table_args__ = (UniqueConstraint("item_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    code: str = Field(max_length=60)
    expiry: date | None = None
    donor: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class LotPublic(SQLModel):
    id: int
    item_id: int
    code: str
    expiry: date | None
    donor: str


class LocationBase(SQLModel):
    kind: LocationKind = Field(default=LocationKind.warehouse, sa_type=String(20))
    name_zh: Required = Field(max_length=200)
    name_en: Required = Field(max_length=200)
    address: Stripped = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    active: bool = True


class Location(LocationBase, table=True):
    __table_args__ = (
        CheckConstraint("kind IN ('warehouse', 'pickup_point', 'vehicle')", name="kind"),
    )
    id: int | None = Field(default=None, primary_key=True)


class LocationCreate(LocationBase):
    model_config = FORBID_EXTRA


class LocationUpdate(SQLModel):
    """Fields to change; an omitted field keeps its value, null clears only lat and lon."""

    model_config = FORBID_EXTRA
    # The default None only marks "not sent": an explicit null is refused.
    name_zh: Required = Field(default=None, max_length=200)
    name_en: Required = Field(default=None, max_length=200)
    address: Stripped = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    active: bool = None


class LocationPublic(LocationBase):
    id: int


# ---------------------------------------------------------------- ledger and levels


class StockMovement(SQLModel, table=True):
    """One ledger transaction (a request of one or more lines); never updated or deleted."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('receive', 'transfer', 'assemble', 'reserve', 'release', 'issue', "
            "'return', 'adjust')",
            name="kind",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=30)
    note: str = Field(default="", max_length=500)
    reference: str | None = Field(default=None, max_length=60, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class StockEntry(SQLModel, table=True):
    """A change of one level: the sums of these per (item, lot, location) are the levels."""

    __tablename__ = "stock_entry"
    __table_args__ = (
        CheckConstraint("on_hand_delta <> 0 OR reserved_delta <> 0", name="nonzero"),
        Index("ix_stock_entry_key", "item_id", "lot_id", "location_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    movement_id: int = Field(foreign_key="stock_movement.id", index=True)
    item_id: int = Field(foreign_key="item.id")
    lot_id: int = Field(foreign_key="lot.id")
    location_id: int = Field(foreign_key="location.id", index=True)
    on_hand_delta: int = 0
    reserved_delta: int = 0


class StockLevel(SQLModel, table=True):
    """The snapshot, updated in the same transaction as the ledger; the database refuses < 0."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("item_id", "lot_id", "location_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
        CheckConstraint("reserved >= 0", name="reserved_nonneg"),
        CheckConstraint("on_hand - reserved >= 0", name="available_nonneg"),
        Index("ix_stock_level_location_item", "location_id", "item_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id")
    lot_id: int = Field(foreign_key="lot.id")
    location_id: int = Field(foreign_key="location.id")
    on_hand: int = 0
    reserved: int = 0


# ---------------------------------------------------------------- API schemas


class MovementLineIn(SQLModel):
    """One line of a movement; which fields apply depends on the movement's kind."""

    model_config = FORBID_EXTRA
    item_id: Id | None = Field(default=None, description="the item (the kit, for assemble)")
    sku: Stripped | None = Field(default=None, max_length=40, description="instead of item_id")
    quantity: Int32 = Field(
        description="units (kits for assemble); for adjust, signed: + found, - lost"
    )
    location_id: Id | None = Field(
        default=None, description="receive/assemble/adjust/reserve/release/issue: where"
    )
    from_location_id: Id | None = Field(default=None, description="transfer: from")
    to_location_id: Id | None = Field(default=None, description="transfer: to")
    lot_id: Id | None = Field(default=None, description="a lot; omitted: first-expired-first-out")
    lot_code: Stripped | None = Field(default=None, max_length=60, description="receive: lot code")
    expiry: date | None = Field(default=None, description="receive: expiry date")
    donor: Stripped | None = Field(default=None, max_length=200, description="receive: donor")


class MovementIn(SQLModel):
    model_config = FORBID_EXTRA
    kind: MovementKind
    reason: AdjustReason | None = Field(default=None, description="adjust: the reason code")
    note: Stripped = Field(default="", max_length=500)
    lines: list[MovementLineIn] = Field(min_length=1, max_length=500)


class EntryPublic(SQLModel):
    item_id: int
    sku: str
    lot_id: int
    lot_code: str
    location_id: int
    on_hand_delta: int
    reserved_delta: int


class MovementPublic(SQLModel):
    id: int
    kind: str
    reason: str | None
    note: str
    reference: str | None
    user: str | None
    created_at: datetime
    entries: list[EntryPublic]


class LevelPublic(SQLModel):
    item_id: int
    sku: str
    item_name_zh: str
    item_name_en: str
    lot_id: int
    lot_code: str
    expiry: date | None
    location_id: int
    location_name_zh: str
    location_name_en: str
    on_hand: int
    reserved: int
    available: int
