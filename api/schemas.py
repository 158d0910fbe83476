"""Request and response shapes of the HTTP API; the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.schemas import (
    AdminLevel,
    Audience,
    Guide,
    HandlingMode,
    ThemeCategory,
)


class Query(BaseModel):
    """Query strings: unknown parameters (cache busters a client adds) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ErrorBody(BaseModel):
    code: str = Field(description="stable English code a client may branch on")
    message: str = Field(description="Chinese text a citizen can read, shown as is")
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """Every non-2xx response has this shape."""

    error: ErrorBody


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str] = Field(description="each dependency: ok or the reason it failed")


class ItemSearchQuery(Query):
    q: str = Field("", description="Chinese keyword, full pinyin or initials (e.g. sfz)")
    department: str | None = Field(None, max_length=64)
    audience: Audience | None = None
    theme: str | None = Field(None, max_length=64)
    handling_mode: HandlingMode | None = None
    paid: bool | None = Field(None, description="true: fee-charging items only; false: free only")
    cursor: str | None = Field(None, max_length=512)
    limit: int | None = Field(None, description="page size, 1 to ZB_PAGE_SIZE_MAX")


class DepartmentRef(BaseModel):
    code: str
    name: str


class ItemSummary(BaseModel):
    code: str
    name: str
    kind: str
    audience: Audience
    department: DepartmentRef
    fee_fen: int = Field(description="integer fen; 0 = free")
    promised_limit_days: int
    handling_mode: HandlingMode
    express_delivery: bool


class ItemPage(BaseModel):
    items: list[ItemSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at end")


class DepartmentOut(BaseModel):
    code: str
    name: str
    level: AdminLevel
    parent: str | None
    region_code: str
    address: str
    hours: str
    phone: str


class GuideDepartment(DepartmentOut):
    role: str = Field(description="lead or parallel")


class ThemeRef(BaseModel):
    code: str
    name: str


class GuideOut(Guide):
    """The whole current guide: the published version plus its departments spelt out."""

    model_config = ConfigDict(extra="allow")
    version: int
    published_at: str | None
    departments: list[GuideDepartment]
    themes: list[ThemeRef]  # type: ignore[assignment]


class DepartmentQuery(Query):
    level: AdminLevel | None = None
    parent: str | None = Field(None, max_length=64)
    cursor: str | None = Field(None, max_length=512)
    limit: int | None = None


class DepartmentPage(BaseModel):
    departments: list[DepartmentOut]
    next_cursor: str | None


class ThemeQuery(Query):
    category: ThemeCategory | None = None


class ThemeOut(BaseModel):
    code: str
    name: str
    category: ThemeCategory
    description: str


class ThemeList(BaseModel):
    themes: list[ThemeOut]
