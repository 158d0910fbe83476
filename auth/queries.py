"""The identity context's plain SQL, and nowhere else: reads that run on every request, where one
statement instead of the ORM's several (or its model building) is the point.

Table names come from the models; each statement says which ORM reads it mirrors, which must
answer the same. Placeholders are PostgreSQL's ``$n`` (``core.db.fetch_rows`` rewrites them for
SQLite).
"""

from __future__ import annotations

from auth.models import Company, CompanyAgent, Mandate, Staff, User

_COMPANY = Company._meta.db_table
_AGENT = CompanyAgent._meta.db_table
_MANDATE = Mandate._meta.db_table
_STAFF = Staff._meta.db_table
_USER = User._meta.db_table

#: Whom a citizen may act for, in one statement: the companies they represent, those they are an
#: agent of (with the scopes) and the principals whose running mandates they hold (with the item
#: codes). ``$1`` the user id, ``$2`` today (``core.db.date_param``). Rows: ``kind`` (``rep``,
#: ``agent``, ``mandate``), ``ref`` (company or principal id), ``codes`` (JSON or NULL).
#: ORM twin: the single-target branches of ``auth.permissions.standing_of`` —
#: ``Company.filter(id=…, legal_rep_id=user)``,
#: ``CompanyAgent.filter(user_id=user, company_id=…, revoked_at=None)``,
#: ``Mandate.filter(agent_id=user, principal_id=…, ended_at=None, ends_on__gte=today)``.
CITIZEN_STANDING_SQL = (
    f'SELECT \'rep\' AS "kind", "id" AS "ref", NULL AS "codes" FROM "{_COMPANY}" '
    'WHERE "legal_rep_id" = $1 '
    f'UNION ALL SELECT \'agent\', "company_id", "scopes" FROM "{_AGENT}" '
    'WHERE "user_id" = $1 AND "revoked_at" IS NULL '
    f'UNION ALL SELECT \'mandate\', "principal_id", "item_codes" FROM "{_MANDATE}" '
    'WHERE "agent_id" = $1 AND "ended_at" IS NULL AND "ends_on" >= $2'
)

#: The companies a citizen answers for: those they represent and those they are an active agent
#: of. ``$1`` the user id. Rows: ``company_id``. Read for a staff member who applies too
#: (recusal: ``auth.permissions.recused``).
#: ORM twin: ``Company.filter(legal_rep_id=…)`` and ``CompanyAgent.filter(user_id=…,
#: revoked_at=None)``, their company ids.
PERSON_COMPANIES_SQL = (
    f'SELECT "id" AS "company_id" FROM "{_COMPANY}" WHERE "legal_rep_id" = $1 '
    f'UNION SELECT "company_id" FROM "{_AGENT}" WHERE "user_id" = $1 AND "revoked_at" IS NULL'
)

#: A staff account's standing, read before every staff action: active, department, roles, and
#: the citizen account of the same WeChat (recusal). ``$1`` the staff id.
#: ORM twin: ``Staff.get(id=…)`` then ``User.get_or_none(openid=staff.openid)``.
STAFF_STANDING_SQL = (
    'SELECT s."id", s."active", s."department_code", s."roles", u."id" AS "person_id" '
    f'FROM "{_STAFF}" AS s LEFT JOIN "{_USER}" AS u ON u."openid" = s."openid" '
    'WHERE s."id" = $1'
)
