"""Message types and the templates each channel shows them with.

A WeChat subscribe template is chosen in the mini-program's back office (公共模板库); its id and
keys (``thing1``, ``date3``…) are the deployment's, so they come from settings
(``ZB_NOTIFY_TEMPLATES``, a JSON object shaped like ``DEFAULT_CATALOGUE``); the defaults below
are the sandbox's. An SMS template is registered with the provider with its variables, and the
signature (签名) with it. Several message types share a template: consent is counted per
template, so the phone asks for as few as it can.

A message carries named values (``item``, ``number``, ``status``…); a template maps its keys to
those names. The key's prefix says how the value is formatted (``notify.formatting``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from notify.formatting import FormatError, wechat_type

Audience = Literal["user", "staff"]
#: When the phone asks for consent: before a submission, before a payment, when staff bind.
Moment = Literal["submit", "pay", "staff"]


@dataclass(frozen=True)
class WeChatTemplate:
    template_id: str
    #: the template's title, as the consent sheet shows it
    title: str
    #: template key -> the message value it shows
    data: Mapping[str, str]
    #: 长期订阅 (allowed for government services): one acceptance, many sends
    long_term: bool = False
    #: when the phone should ask for it
    moments: tuple[Moment, ...] = ()


@dataclass(frozen=True)
class SmsTemplate:
    code: str
    #: the registered text, with ``${variable}``
    text: str
    #: variable -> the message value it shows
    params: Mapping[str, str]


@dataclass(frozen=True)
class MessageType:
    kind: str
    audience: Audience
    #: the name of its WeChat template, or None (inbox and SMS only)
    wechat: str | None
    #: the name of its SMS template, or None
    sms: str | None


@dataclass(frozen=True)
class Catalogue:
    wechat: Mapping[str, WeChatTemplate]
    sms: Mapping[str, SmsTemplate]
    types: Mapping[str, MessageType] = field(default_factory=dict)

    def type_of(self, kind: str) -> MessageType:
        try:
            return self.types[kind]
        except KeyError:
            raise FormatError(f"unknown message type {kind!r}") from None

    def wechat_for(self, kind: str) -> WeChatTemplate | None:
        name = self.type_of(kind).wechat
        return self.wechat[name] if name else None

    def sms_for(self, kind: str) -> SmsTemplate | None:
        name = self.type_of(kind).sms
        return self.sms[name] if name else None

    def by_template_id(self) -> dict[str, WeChatTemplate]:
        return {t.template_id: t for t in self.wechat.values()}

    def check(self) -> list[str]:
        """What is wrong with this catalogue (settings refuse to start on any)."""
        problems: list[str] = []
        for name, template in self.wechat.items():
            for key in template.data:
                try:
                    wechat_type(key)
                except FormatError as exc:
                    problems.append(f"wechat template {name}: {exc}")
        ids = [t.template_id for t in self.wechat.values()]
        if len(set(ids)) != len(ids):
            problems.append("two WeChat templates share an id")
        for kind, message_type in self.types.items():
            if message_type.wechat and message_type.wechat not in self.wechat:
                problems.append(f"{kind}: no WeChat template {message_type.wechat!r}")
            if message_type.sms and message_type.sms not in self.sms:
                problems.append(f"{kind}: no SMS template {message_type.sms!r}")
        return problems


def _w(template_id: str, title: str, data: dict[str, str], *moments: Moment) -> dict[str, Any]:
    return {"template_id": template_id, "title": title, "data": data, "moments": list(moments)}


#: The sandbox's templates; a deployment replaces the ids and keys with its own (settings).
DEFAULT_CATALOGUE: dict[str, Any] = {
    "wechat": {
        "progress": _w(
            "ZbProgress0000000000000000000000000000000",
            "办件进度通知",
            {
                "thing1": "item",
                "character_string2": "number",
                "phrase3": "status",
                "date4": "at",
                "thing5": "note",
            },
            "submit",
        ),
        "correction": _w(
            "ZbCorrection00000000000000000000000000000",
            "材料补正通知",
            {"thing1": "item", "number2": "count", "thing3": "note", "date4": "at"},
            "submit",
        ),
        "fee": _w(
            "ZbFee000000000000000000000000000000000000",
            "缴费通知",
            {"thing1": "item", "amount2": "amount", "date3": "deadline", "thing4": "note"},
            "submit",
        ),
        "payment": _w(
            "ZbPayment0000000000000000000000000000000",
            "缴费结果通知",
            {
                "thing1": "item",
                "amount2": "amount",
                "phrase3": "status",
                "date4": "at",
                "thing5": "note",
            },
            "pay",
        ),
        "mandate": _w(
            "ZbMandate0000000000000000000000000000000",
            "授权变更通知",
            {"thing1": "item", "name2": "person", "phrase3": "status", "date4": "at"},
        ),
        "evaluation": _w(
            "ZbEvaluation00000000000000000000000000000",
            "服务评价邀请",
            {"thing1": "item", "character_string2": "number", "thing3": "note"},
            "pay",
        ),
        "staff_task": {
            **_w(
                "ZbStaffTask00000000000000000000000000000",
                "待办事项提醒",
                {"thing1": "item", "number2": "count", "thing3": "note", "date4": "at"},
                "staff",
            ),
            "long_term": True,
        },
        "staff_alert": {
            **_w(
                "ZbStaffAlert0000000000000000000000000000",
                "督办预警通知",
                {
                    "thing1": "item",
                    "character_string2": "number",
                    "phrase3": "status",
                    "thing4": "note",
                },
                "staff",
            ),
            "long_term": True,
        },
    },
    "sms": {
        "progress": {
            "code": "SMS_460001",
            "text": "您申请的${item}（${number}）${status}，${note}。详情请在“掌办”小程序查看。",
            "params": {"item": "item", "number": "number", "status": "status", "note": "note"},
        },
        "correction": {
            "code": "SMS_460002",
            "text": "您申请的${item}需补正${count}项材料，请在“掌办”小程序查看清单并一次提交。",
            "params": {"item": "item", "count": "count"},
        },
        "fee": {
            "code": "SMS_460003",
            "text": "您申请的${item}待缴费${amount}，请于${deadline}前在“掌办”小程序缴纳。",
            "params": {"item": "item", "amount": "amount", "deadline": "deadline"},
        },
        "payment": {
            "code": "SMS_460004",
            "text": "您为${item}缴纳的${amount}${status}。详情请在“掌办”小程序查看。",
            "params": {"item": "item", "amount": "amount", "status": "status"},
        },
        "mandate": {
            "code": "SMS_460005",
            "text": "${person}与您的${item}${status}。如非本人操作，请在“掌办”小程序处理。",
            "params": {"person": "person", "item": "item", "status": "status"},
        },
    },
    "types": {
        # the applicant's side
        "case.submitted": ["user", "progress", None],
        "case.correction_requested": ["user", "correction", "correction"],
        "case.accepted": ["user", "progress", "progress"],
        "case.refused": ["user", "progress", "progress"],
        "case.granted": ["user", "progress", "progress"],
        "case.denied": ["user", "progress", "progress"],
        "case.fee_due": ["user", "fee", "fee"],
        "case.fee_reminder": ["user", "fee", "fee"],
        "case.paid": ["user", "payment", None],
        "case.refunded": ["user", "payment", "payment"],
        "case.lapsed": ["user", "progress", "progress"],
        "case.result_issued": ["user", "progress", "progress"],
        "case.completed": ["user", "progress", None],
        "case.withdrawn": ["user", "progress", "progress"],
        "case.suspended": ["user", "progress", "progress"],
        "case.resumed": ["user", "progress", "progress"],
        "case.evaluation_invited": ["user", "evaluation", None],
        "mandate.granted": ["user", "mandate", "mandate"],
        "mandate.ended": ["user", "mandate", "mandate"],
        "agent.added": ["user", "mandate", "mandate"],
        "agent.removed": ["user", "mandate", "mandate"],
        # the staff's side
        "staff.queue": ["staff", "staff_task", None],
        "staff.task_assigned": ["staff", "staff_task", None],
        "staff.supervision": ["staff", "staff_alert", None],
        "staff.card_yellow": ["staff", "staff_alert", None],
        "staff.card_red": ["staff", "staff_alert", None],
        "staff.low_rating": ["staff", "staff_alert", None],
    },
}


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """A catalogue from its JSON shape (``DEFAULT_CATALOGUE``); ``ValueError`` when malformed."""
    try:
        wechat = {
            name: WeChatTemplate(
                template_id=str(t["template_id"]),
                title=str(t.get("title", "")),
                data={str(k): str(v) for k, v in dict(t["data"]).items()},
                long_term=bool(t.get("long_term", False)),
                moments=tuple(t.get("moments", ())),
            )
            for name, t in dict(data.get("wechat", {})).items()
        }
        sms = {
            name: SmsTemplate(
                code=str(t["code"]),
                text=str(t.get("text", "")),
                params={str(k): str(v) for k, v in dict(t["params"]).items()},
            )
            for name, t in dict(data.get("sms", {})).items()
        }
        types = {
            kind: MessageType(kind=kind, audience=entry[0], wechat=entry[1], sms=entry[2])
            for kind, entry in dict(data.get("types", {})).items()
        }
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"malformed notification catalogue: {exc!r}") from None
    catalogue = Catalogue(wechat=wechat, sms=sms, types=types)
    if problems := catalogue.check():
        raise ValueError("; ".join(problems))
    return catalogue


def load_catalogue(spec: str) -> Catalogue:
    """The catalogue of ``ZB_NOTIFY_TEMPLATES`` (a JSON object, or empty for the defaults);
    message types it leaves out keep the default ones."""
    if not spec.strip():
        return parse_catalogue(DEFAULT_CATALOGUE)
    custom = json.loads(spec)
    merged = {
        "wechat": {**DEFAULT_CATALOGUE["wechat"], **custom.get("wechat", {})},
        "sms": {**DEFAULT_CATALOGUE["sms"], **custom.get("sms", {})},
        "types": {**DEFAULT_CATALOGUE["types"], **custom.get("types", {})},
    }
    return parse_catalogue(merged)
