"""The errors of a case's use cases: stable codes, Chinese messages (``core.errors``)."""

from __future__ import annotations

from core.errors import Conflict, DomainError, Forbidden, NotFound


class CaseNotFound(NotFound):
    code = "case.not_found"
    message = "办件不存在。"


class InvalidTransition(Conflict):
    code = "case.invalid_transition"
    message = "办件状态已变化，当前不能进行此操作，请刷新后查看。"


class RoleNotAllowed(Forbidden):
    code = "case.role_not_allowed"
    message = "您的岗位不能进行此操作。"


class CaseIncomplete(DomainError):
    status = 400
    code = "case.incomplete"
    message = "申请信息不完整，请按清单补充后再提交。"


class NotEditable(Conflict):
    code = "case.not_editable"
    message = "办件已提交，当前不能修改。"


class NotListedForCorrection(DomainError):
    status = 400
    code = "case.not_listed_for_correction"
    message = "只能修改补正告知中列出的材料和内容。"


class TaskNotFound(NotFound):
    code = "case.task_not_found"
    message = "审查任务不存在。"


class TaskTaken(Conflict):
    code = "case.task_taken"
    message = "该任务已被他人领取或已处理，请刷新后查看。"


class WrongApplicant(DomainError):
    status = 400
    code = "case.wrong_applicant"
    message = "该事项不接受此类申请人。"


class SameHandsTwice(Forbidden):
    code = "case.separation_of_duties"
    message = "同一工作人员不能办理同一办件的两个审查步骤（审批分离），请由其他同事办理。"
