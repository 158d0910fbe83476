"""Case tables: the case (办件), its timeline, correction notices, review tasks, acceptance
numbers, supervision notices, evaluations and per-item duration statistics.

Lists for small screens read ``Case`` alone: everything a list row shows (item name, status, due
dates, acceptance number) is copied onto the case when it changes, so a page is one query.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Case(Model):
    id = fields.BigIntField(primary_key=True)
    #: the exact published item version the case was filed under, and copies for lists.
    item_code = fields.CharField(max_length=64)
    item_version_id = fields.IntField()
    item_name = fields.CharField(max_length=100)
    lead_department_code = fields.CharField(max_length=64)
    #: every department taking part, as ",code1,code2,".
    department_codes = fields.CharField(max_length=600)
    #: whose case it is: a person, or a company (then ``applicant_user_id`` is null).
    applicant_user_id = fields.IntField(null=True)
    company_id = fields.IntField(null=True)
    #: who filed it when not the applicant: a company agent or a family member under a mandate.
    agent_user_id = fields.IntField(null=True)
    mandate_id = fields.IntField(null=True)
    #: masked applicant name for the public status page ("张*三" / company name).
    applicant_display = fields.CharField(max_length=100, default="")
    status = fields.CharField(max_length=24, default="draft")
    #: incremented by every transition; lets a phone show "changed since you looked".
    revision = fields.IntField(default=0)
    form_data: dict[str, Any] = fields.JSONField(default=dict)
    fee_fen = fields.BigIntField(default=0)
    acceptance_number = fields.CharField(max_length=64, null=True, unique=True)
    correction_round = fields.IntField(default=0)
    #: "pre_review" or "review": where a resubmission returns to.
    correction_stage = fields.CharField(max_length=16, default="")
    #: pre-review: the clerk who claimed it (optional), or the assignee of the open task.
    assignee_staff_id = fields.IntField(null=True)
    decision = fields.CharField(max_length=16, default="")  # granted / denied / refused
    decision_reasons = fields.TextField(default="")
    #: article 32: a submission not answered by this working day counts as accepted.
    answer_due_on = fields.DateField(null=True)
    statutory_due_on = fields.DateField(null=True)
    promised_due_on = fields.DateField(null=True)
    #: the day the clock stopped (corrections during review, suspensions); null while running.
    paused_on = fields.DateField(null=True)
    paused_working_days = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    submitted_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    accepted_on = fields.DateField(null=True)
    decided_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "cases_case"
        indexes = (
            ("applicant_user_id", "id"),
            ("company_id", "id"),
            ("agent_user_id", "id"),
            ("lead_department_code", "status", "id"),
            ("status", "promised_due_on"),
            ("status", "answer_due_on"),
        )


class CaseEvent(Model):
    """One line of the timeline: every transition and every notable act on a case."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="events", on_delete=fields.CASCADE
    )
    case_id: int
    action = fields.CharField(max_length=32)
    actor = fields.CharField(max_length=32)  # "u:<id>", "s:<id>", "system"
    role = fields.CharField(max_length=16)  # applicant, clerk, reviewer, ..., system
    from_status = fields.CharField(max_length=24, default="")
    to_status = fields.CharField(max_length=24, default="")
    comment = fields.TextField(default="")
    details: dict[str, Any] = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "cases_event"
        indexes = (("case_id", "id"),)


class CorrectionNotice(Model):
    """一次性告知: the complete list of problems of one round."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="corrections", on_delete=fields.CASCADE
    )
    case_id: int
    round = fields.IntField()
    stage = fields.CharField(max_length=16)  # pre_review / review
    #: [{"kind": "material"|"field", "code": ..., "problem": ...}]
    items: list[dict[str, Any]] = fields.JSONField()
    issued_by_staff_id = fields.IntField()
    issued_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "cases_correction"
        unique_together = (("case", "round"),)


class ReviewTask(Model):
    """One department's step of review or approval. Parallel items open one per department."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="tasks", on_delete=fields.CASCADE, db_index=True
    )
    case_id: int
    step_index = fields.IntField()
    step_name = fields.CharField(max_length=50)
    role = fields.CharField(max_length=16)  # reviewer / approver
    department_code = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16, default="open")  # open/claimed/passed/denied/cancelled
    assignee_staff_id = fields.IntField(null=True)
    opinion = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "cases_review_task"
        indexes = (("department_code", "role", "status", "id"), ("assignee_staff_id", "status"))


class AcceptanceCounter(Model):
    """The last acceptance sequence of one department on one day."""

    id = fields.IntField(primary_key=True)
    department_code = fields.CharField(max_length=64)
    day = fields.DateField()
    last_number = fields.IntField(default=0)

    class Meta:
        table = "cases_acceptance_counter"
        unique_together = (("department_code", "day"),)


class SupervisionNotice(Model):
    """督办: a supervisor's demand that the assignee act on a case."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="supervision_notices", on_delete=fields.CASCADE, db_index=True
    )
    case_id: int
    department_code = fields.CharField(max_length=64)
    issued_by_staff_id = fields.IntField()
    assignee_staff_id = fields.IntField(null=True, db_index=True)
    message = fields.TextField()
    card = fields.CharField(max_length=8, default="")  # yellow / red at the time of issue
    created_at = fields.DatetimeField(auto_now_add=True)
    acknowledged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "cases_supervision_notice"
        indexes = (("department_code", "id"),)


class Evaluation(Model):
    """好差评: the applicant's one rating of a finished case, and the department's follow-up."""

    id = fields.BigIntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "models.Case", related_name="evaluation", on_delete=fields.CASCADE
    )
    case_id: int
    user_id = fields.IntField()
    item_code = fields.CharField(max_length=64, db_index=True)
    department_code = fields.CharField(max_length=64, db_index=True)
    score = fields.SmallIntField()
    tags: list[str] = fields.JSONField(default=list)
    comment = fields.TextField(default="")
    follow_up = fields.CharField(max_length=16, default="")  # "" / open / answered
    answer = fields.TextField(default="")
    answered_by_staff_id = fields.IntField(null=True)
    answered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "cases_evaluation"


class ItemDurationStats(Model):
    """Working days from acceptance to decision of an item's finished cases, as a histogram,
    kept by the statistics handler of the outbox; serves the predicted completion date."""

    id = fields.IntField(primary_key=True)
    item_code = fields.CharField(max_length=64, unique=True)
    count = fields.IntField(default=0)
    #: {"<working days>": <number of cases>}
    histogram: dict[str, int] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cases_item_duration_stats"
