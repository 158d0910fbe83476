"""Identity tables: users, staff, sessions, companies and their agents, family mandates.

Personal identifiers (ID numbers, phone numbers) are stored only as SM4-GCM ciphertext
(``*_enc``, see ``core.crypto``) beside a keyed SM3 hash (``*_hash``) that serves lookups and
uniqueness without decrypting anything.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Literal

from tortoise import fields
from tortoise.models import Model


class RealnameLevel(IntEnum):
    L0 = 0  # WeChat only
    L1 = 1  # name and resident ID number verified
    L2 = 2  # face verified


class StaffRole(StrEnum):
    clerk = "clerk"  # 窗口受理
    reviewer = "reviewer"
    approver = "approver"
    dispatcher = "dispatcher"
    finance = "finance"  # 财务: the department's fee orders, refunds and reconciliation
    supervisor = "supervisor"
    catalog_admin = "catalog_admin"
    admin = "admin"


#: A role's name where an API body names one (``tests/unit/test_roles`` keeps it equal to
#: ``StaffRole``): the document lists the names themselves.
StaffRoleName = Literal[
    "clerk", "reviewer", "approver", "dispatcher", "finance", "supervisor", "catalog_admin", "admin"
]


class AgentScope(StrEnum):
    apply = "apply"
    pay = "pay"
    view = "view"


class User(Model):
    """A citizen: one WeChat openid of this mini-program."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True, db_index=True)
    #: the WeChat session key, encrypted: it never leaves the server.
    session_key_enc = fields.CharField(max_length=200, default="")
    realname_level = fields.SmallIntField(default=0)
    real_name = fields.CharField(max_length=64, default="")
    id_number_enc = fields.CharField(max_length=200, null=True)
    id_number_hash = fields.CharField(max_length=64, null=True, unique=True)
    phone_enc = fields.CharField(max_length=200, null=True)
    phone_hash = fields.CharField(max_length=64, null=True, db_index=True)
    birth_date = fields.DateField(null=True)
    sex = fields.CharField(max_length=1, default="")  # M / F, derived from the ID number
    region_code = fields.CharField(max_length=6, default="")
    l1_verified_at = fields.DatetimeField(null=True)
    l2_verified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "auth_user"


class Staff(Model):
    """A staff member of one department, created by an administrator."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=64)
    department_code = fields.CharField(max_length=64, db_index=True)
    roles: list[str] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    openid = fields.CharField(max_length=64, null=True, unique=True)
    #: keyed hash of the one-time WeChat binding code, and when it stops working.
    bind_code_hash = fields.CharField(max_length=64, null=True, unique=True)
    bind_code_expires_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "auth_staff"


class RefreshToken(Model):
    """One refresh token of a session family; a used token that comes back revokes the family."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    family = fields.CharField(max_length=32, db_index=True)
    subject = fields.CharField(max_length=32, db_index=True)  # "u:<id>" or "s:<id>"
    audience = fields.CharField(max_length=16)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "auth_refresh_token"


class Company(Model):
    id = fields.IntField(primary_key=True)
    uscc = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=100)
    legal_rep: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User",
        related_name="represented_companies",
        on_delete=fields.RESTRICT,
        db_index=True,
    )
    legal_rep_id: int
    verified_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "auth_company"


class CompanyAgent(Model):
    """A person acting for a company (经办人), with scopes; revocation takes effect at once."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="agents", on_delete=fields.CASCADE, db_index=True
    )
    company_id: int
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User",
        related_name="agencies",
        null=True,
        on_delete=fields.RESTRICT,
        db_index=True,
    )
    user_id: int | None
    scopes: list[str] = fields.JSONField(default=list)
    invite_code_hash = fields.CharField(max_length=64, null=True, unique=True)
    invite_expires_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "auth_company_agent"


class Mandate(Model):
    """A family mandate (亲友代办): ``agent`` may apply for ``principal``."""

    id = fields.IntField(primary_key=True)
    principal: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mandates_given", on_delete=fields.RESTRICT, db_index=True
    )
    principal_id: int
    agent: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mandates_held", on_delete=fields.RESTRICT, db_index=True
    )
    agent_id: int
    #: item codes the mandate covers; empty = every item.
    item_codes: list[str] = fields.JSONField(default=list)
    ends_on = fields.DateField()
    ended_at = fields.DatetimeField(null=True)
    ended_by = fields.CharField(max_length=16, null=True)  # principal / agent
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "auth_mandate"


class PersonalDataAccess(Model):
    """Every full read of a personal identifier by staff, with the reason they gave: a user's
    own (``field`` ``id_number`` / ``phone``), or one written in a case's form (``field``
    ``form``, ``case_id`` and ``form_field``, e.g. ``persons.0.id_number``; ``user_id`` is then
    the person answerable for the application: its applicant, or for a company the agent who
    filed it or the legal representative)."""

    id = fields.IntField(primary_key=True)
    staff_id = fields.IntField(db_index=True)
    user_id = fields.IntField(db_index=True)
    field = fields.CharField(max_length=32)
    case_id = fields.BigIntField(null=True, db_index=True)
    form_field = fields.CharField(max_length=100, default="")
    reason = fields.CharField(max_length=200)
    request_id = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "auth_personal_data_access"


class FaceVerification(Model):
    """One WeChat face-verification attempt, settled only by our own server-side query."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="face_verifications", on_delete=fields.CASCADE, db_index=True
    )
    user_id: int
    out_seq_no = fields.CharField(max_length=64, unique=True)
    verify_id = fields.CharField(max_length=128, unique=True)
    status = fields.CharField(max_length=16, default="pending")  # pending / passed / failed
    verify_ret = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "auth_face_verification"
