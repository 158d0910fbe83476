"""Request and response shapes of the HTTP API; the OpenAPI document is generated from them."""

from __future__ import annotations

import re
import types
import typing
from contextlib import suppress
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from catalog.schemas import (
    AdminLevel,
    Audience,
    Guide,
    HandlingMode,
    ThemeCategory,
)
from catalog.search import MAX_QUERY_CHARS
from core.identifiers import holds_identifier
from core.paging import MAX_CURSOR_CHARS

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """``YYYY-MM-DD`` becomes the date; anything else is left to the strict date check, which
    refuses it (lax dates took ``1812153600.0`` as a Unix time and a date-time as its day)."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        with suppress(ValueError):
            return date.fromisoformat(value)
    return value


#: A calendar day in a request body: exactly ``YYYY-MM-DD`` (the body's strictness kept).
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


def _scalar(annotation: Any) -> Any:
    """``int`` for ``int``, ``int | None`` and ``Annotated[int, …] | None``; the same for bool."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kept = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = kept[0] if len(kept) == 1 else annotation
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


_DIGITS = re.compile(r"[0-9]{1,19}")


class Query(BaseModel):
    """Query strings: unknown parameters (cache busters a client adds) are ignored; a number is
    written in digits and a boolean as true or false, as the document says (lenient parsing took
    ``limit=5.0`` as 5 and ``unread=yes`` as true: found from outside)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _as_written(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or info.field_name is None:
            return value
        kind = _scalar(cls.model_fields[info.field_name].annotation)
        written = value.strip()
        if kind is int and not _DIGITS.fullmatch(written):
            raise PydanticCustomError("int_parsing", "请填写整数。")
        if kind is bool and written not in ("true", "false"):
            raise PydanticCustomError("bool_parsing", "请填写 true 或 false。")
        return written


class PageQuery(Query):
    """A list's page: the cursor of the previous page (checked, and bound to its list and its
    reader, by ``core.paging.Cursor``) and the page size (bounded by ``core.paging``)."""

    cursor: str | None = Field(
        None, max_length=MAX_CURSOR_CHARS, description="next_cursor of the previous page"
    )
    limit: int | None = Field(None, ge=1, description="page size, 1 to ZB_PAGE_SIZE_MAX")


def _no_identifiers(text: str) -> str:
    if holds_identifier(text):
        raise PydanticCustomError("identifier_not_allowed", "此栏不能填写身份证号码或手机号码。")
    return text


#: Text a person types that others read (a reason, a comment, an opinion, a notice): it may not
#: carry an ID or mobile number (``core.identifiers``), which would be stored and shown in full
#: where nothing masks it.
FreeText = Annotated[str, AfterValidator(_no_identifiers)]


#: The cursor of a list's next page, as every list answers it.
NextCursor = Annotated[
    str | None, Field(description="pass as ?cursor= for the next page; null at end")
]


class In(BaseModel):
    """A request body: a field the API does not know is refused, not silently dropped (a typo
    in an optional field would otherwise go unnoticed); and a JSON value is taken as the type it
    is (strict): ``true`` is no staff id 1, ``41.0`` no 41, ``"5"`` no score. A field whose JSON
    form is a string of another type (a date) says ``strict=False`` itself."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """A response body: exactly these fields (``additionalProperties: false`` in the document;
    the test suite checks every answer the server gives against its model)."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(Out):
    code: str = Field(description="stable English code a client may branch on")
    message: str = Field(description="Chinese text a citizen can read, shown as is")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "what the client can act on: for 400 request.validation_failed, `fields`: "
            "[{field, code, message, label?}] (label: the Chinese name of an item's form field "
            "or material); for 429, `retry_after_s` and `retry_at` (local time, to the minute)"
        ),
    )


class ErrorEnvelope(Out):
    """Every non-2xx response has this shape."""

    error: ErrorBody


class Health(Out):
    status: str


class Readiness(Out):
    status: str
    checks: dict[str, str] = Field(description="each dependency: ok or the reason it failed")


class ItemSearchQuery(PageQuery):
    q: str = Field(
        "",
        max_length=MAX_QUERY_CHARS,
        description="Chinese keyword, full pinyin or initials (e.g. sfz)",
    )
    department: str | None = Field(None, max_length=64)
    audience: Audience | None = None
    theme: str | None = Field(None, max_length=64)
    handling_mode: HandlingMode | None = None
    paid: bool | None = Field(None, description="true: fee-charging items only; false: free only")


class DepartmentRef(Out):
    code: str
    name: str


class ItemSummary(Out):
    code: str
    name: str
    kind: str
    audience: Audience
    department: DepartmentRef
    fee_fen: int = Field(description="integer fen; 0 = free")
    promised_limit_days: int
    handling_mode: HandlingMode
    express_delivery: bool


class ItemPage(Out):
    items: list[ItemSummary]
    next_cursor: NextCursor


class DepartmentOut(Out):
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


class ThemeRef(Out):
    code: str
    name: str


class GuideOut(Guide):
    """The whole current guide: the published version plus its departments spelt out."""

    model_config = ConfigDict(extra="allow")
    version: int
    published_at: str | None
    departments: list[GuideDepartment]
    themes: list[ThemeRef]  # type: ignore[assignment]


class DepartmentQuery(PageQuery):
    level: AdminLevel | None = None
    parent: str | None = Field(None, max_length=64)


class DepartmentPage(Out):
    departments: list[DepartmentOut]
    next_cursor: NextCursor


class ThemeQuery(Query):
    category: ThemeCategory | None = None


class ThemeOut(Out):
    code: str
    name: str
    category: ThemeCategory
    description: str


class ThemeList(Out):
    themes: list[ThemeOut]


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


class UploadIntentOut(Out):
    upload_id: str
    url: str = Field(description="wx.uploadFile url")
    fields: dict[str, str] = Field(description="wx.uploadFile formData")
    file_field: str = Field(description="wx.uploadFile name")
    max_size: int
    expires_at: str


class Links(Out):
    url: str | None = Field(description="presigned GET, valid about 5 minutes")
    thumbnail_url: str | None


class UploadOut(Links):
    id: str
    status: str
    purpose: str
    item_code: str | None
    material_code: str | None
    case_id: int | None
    filename: str
    content_type: str | None
    size: int | None
    width: int | None
    height: int | None
    pages: int | None
    created_at: str | None


class UploadList(Out):
    uploads: list[UploadOut]


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

#: A case's status (cases.states.CaseStatus), as the document lists it.
CaseStatusName = Literal[
    "draft",
    "submitted",
    "correction_requested",
    "refused",
    "accepted",
    "in_review",
    "suspended",
    "decided_granted",
    "decided_denied",
    "fee_due",
    "result_pending",
    "completed",
    "withdrawn",
    "lapsed",
]


class CaseStateOut(Out):
    """What an action answers: enough to redraw the case's card."""

    id: int
    status: CaseStatusName
    status_label: str
    revision: int
    acceptance_number: str | None


class CaseSummary(Out):
    id: int
    item_code: str
    item_name: str
    status: CaseStatusName
    status_label: str
    acceptance_number: str | None
    applicant: str = Field(description="masked name of the applicant, or the company's name")
    promised_due_on: str | None
    card: Literal["", "red", "yellow"] = Field(description="supervision card; empty: none")
    updated_at: str


class CasePage(Out):
    items: list[CaseSummary]
    next_cursor: NextCursor


class ChecklistRow(Out):
    code: str
    name: str
    requirement: str
    condition: str | None
    needed: bool
    files: int
    max_files: int
    satisfied: bool


class CaseFile(Links):
    id: str
    material_code: str | None
    purpose: str
    status: str
    filename: str
    content_type: str | None
    width: int | None
    height: int | None
    pages: int | None
    created_at: str


class CorrectionItemOut(Out):
    kind: Literal["material", "field"]
    code: str
    problem: str


class CorrectionOut(Out):
    round: int
    items: list[CorrectionItemOut]
    issued_at: str
    resolved: bool


class RatingOut(Out):
    score: int
    tags: list[str]
    comment: str
    answer: str | None
    follow_up: Literal["open", "answered"] | None = Field(
        description="open: a low rating the department has still to answer"
    )
    rated_at: str
    answered_at: str | None


class TimelineEvent(Out):
    action: str
    label: str = Field(description="what the timeline shows for the action, in Chinese")
    role: str
    from_: str = Field(alias="from")
    to: str
    comment: str
    details: dict[str, Any]
    at: str


class AskTemplate(Out):
    template_id: str
    title: str


class ToAskOut(Out):
    moment: str
    template_ids: list[str] = Field(description="pass as tmplIds to wx.requestSubscribeMessage")
    templates: list[AskTemplate]


class CaseDetailOut(CaseSummary):
    revision: int
    lead_department_code: str
    company_id: int | None
    applicant_user_id: int | None
    agent_user_id: int | None
    form: dict[str, Any] = Field(description="personal identifiers masked")
    form_titles: dict[str, str] = Field(
        description=(
            "the form's field titles by path (a.b; * for an array's index), as the item's "
            "version the case was filed under names them"
        )
    )
    fee_fen: int
    submitted_at: str | None
    accepted_on: str | None
    statutory_due_on: str | None
    answer_due_on: str | None
    clock_stopped_since: str | None
    predicted_on: str | None
    decision: str | None
    decision_reasons: str | None
    rights_notice: str | None
    checklist: list[ChecklistRow]
    files: list[CaseFile]
    correction: CorrectionOut | None
    evaluation: RatingOut | None
    timeline: list[TimelineEvent]
    subscriptions_to_ask: ToAskOut | None = Field(
        None,
        description=(
            "GET of the case by its applicant side only: before the next submission (a draft, "
            "a correction) or payment (fee due), the subscribe templates to ask for in the tap "
            "that submits or pays (wx.requestSubscribeMessage must run inside a tap, so the "
            "page holds them beforehand); null when there is nothing to ask or to do"
        ),
    )


StaffActionName = Literal[
    "accept",
    "refuse",
    "request_correction",
    "claim",
    "decide",
    "release",
    "suspend",
    "resume",
    "complete",
    "comment",
    "attach",
    "reveal",
    "reassign",
]


class TaskOut(Out):
    id: int
    step_index: int
    step_name: str
    role: str
    department_code: str
    status: str
    assignee_staff_id: int | None
    opinion: str


class PersonalFieldOut(Out):
    path: str = Field(description="a.b, * for an array's index: as form_titles")
    kind: str = Field(description="id_number or phone")


class StaffCaseDetailOut(CaseDetailOut):
    tasks: list[TaskOut]
    personal_fields: list[PersonalFieldOut] = Field(
        description=(
            "where the filed version's form holds identifiers (masked in `form`; the reveal "
            "endpoint takes the concrete field, e.g. persons.0.id_number)"
        )
    )
    actions: list[StaffActionName] = Field(
        description=(
            "what the viewer may do on the case now, by the endpoint that takes it (a phone "
            "shows these buttons and no others; the endpoints still decide)"
        )
    )


class InboxTask(Out):
    id: int
    step_index: int
    step_name: str
    status: str
    assignee_staff_id: int | None


class InboxItem(CaseSummary):
    answer_due_on: str | None = Field(None, description="clerk and dispatcher inboxes")
    task: InboxTask | None = Field(None, description="reviewer and approver inboxes")


class InboxCounts(Out):
    queue: int
    mine: int | None = None
    supervision: int


class InboxPage(Out):
    role: str
    counts: InboxCounts
    counts_cap: int = Field(description="a count equal to this means at least this many")
    items: list[InboxItem]
    next_cursor: NextCursor


class TaskStateOut(Out):
    task_id: int
    status: str
    case_id: int


class PublicCaseOut(Out):
    acceptance_number: str
    item_name: str
    applicant: str
    status: str
    status_label: str
    accepted_on: str | None
    promised_due_on: str | None
    closed: bool
