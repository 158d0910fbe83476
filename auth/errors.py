"""The errors of the identity use cases: stable codes, Chinese messages (``core.errors``).

The WeChat platform's own errors (a login code used twice, a blocked user) are
``platforms.wechat``'s; a provider that gives no answer is ``auth.providers.base``'s.
"""

from __future__ import annotations

from core.errors import Conflict, DomainError, Forbidden, NotFound, field_error


class LevelTooLow(Forbidden):
    code = "auth.realname_level_too_low"
    message = "此事项需要更高的实名认证等级，请先完成实名认证。"


class IdNumberTaken(Conflict):
    code = "auth.id_number_taken"
    message = "该身份证号码已绑定其他账号。如有疑问，请携带身份证到窗口办理。"


class RealnameMismatch(DomainError):
    status = 400
    code = "auth.realname_mismatch"
    message = "姓名与身份证号码不一致，请核对后重试。"


class FaceFailed(DomainError):
    status = 400
    code = "auth.face_failed"
    message = "人脸核验未通过，请在光线充足处正对手机重试。"


class FaceIncomplete(DomainError):
    status = 400
    code = "auth.face_incomplete"
    message = "人脸核验尚未完成，请在微信中完成刷脸后再试。"


class UserNotFound(NotFound):
    code = "auth.user_not_found"
    message = "没有找到该用户。"


class StaffNotFound(NotFound):
    code = "auth.staff_not_found"
    message = "没有找到该工作人员账号。"


class StaffInactive(Forbidden):
    code = "auth.staff_inactive"
    message = "该工作人员账号已停用，请联系管理员。"


class NotStaff(Forbidden):
    code = "auth.not_staff"
    message = "该微信未绑定工作人员账号，请使用管理员提供的绑定码绑定。"


class BindCodeInvalid(DomainError):
    status = 400
    code = "auth.bind_code_invalid"
    message = "绑定码无效或已过期，请联系管理员重新获取。"


class CompanyNotFound(NotFound):
    code = "auth.company_not_found"
    message = "没有找到该企业。"


class NotLegalRepresentative(Forbidden):
    code = "auth.not_legal_representative"
    message = "登记信息显示您不是该企业的法定代表人，无法以法定代表人身份注册。"


class InvitationInvalid(DomainError):
    status = 400
    code = "auth.invitation_invalid"
    message = "邀请码无效、已使用或已过期，请联系企业法定代表人重新邀请。"

    def __init__(self) -> None:
        # named as a field error too, so a phone shows it beside the code it was given
        super().__init__(details={"fields": [field_error("code", self.message, "invalid")]})


class MandateNotFound(NotFound):
    code = "auth.mandate_not_found"
    message = "没有找到该代办授权。"


class OperatorAccount(Forbidden):
    code = "auth.role_not_grantable"
    message = "督查和管理员角色只能由系统运维人员在服务器上授予和调整。"
