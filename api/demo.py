"""``zhangban demo``: the main flow walked over HTTP, as the mini-program would, one line a step.

Without ``--base-url`` it starts its own embedded server (a fresh database in a temporary folder,
migrated and seeded) and stops it afterwards, so it never touches the operator's data.

The staff steps need staff accounts, made as an operator makes them: the lead department's admin
with ``zhangban staff create`` (run with the embedded server's settings; with ``--base-url``, with
the caller's own ``ZB_*`` settings, which must reach that server's database), then a clerk, a
reviewer and an approver by that admin over the admin API. Each binds a WeChat of its own through
the sandbox, and acts through the staff endpoints as a staff phone would.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from typing import Any

import httpx
from PIL import Image

from auth.contacts import user_ref
from auth.identifiers import complete_id_number
from core.clock import CHINA
from core.settings import Settings

STEPS = (
    "browse",
    "login",
    "realname",
    "upload",
    "submit",
    "correction",
    "accept",
    "review",
    "decide",
    "pay",
    "notify",
    "dispatch",
    "deliver",
    "evaluate",
)


class StepFailed(Exception):
    pass


#: Runs ``zhangban <args>`` against the demo server's database, as an operator at the server would
#: (only to create the first staff account: there is no one yet to do it over HTTP); its output.
Operator = Callable[[list[str]], str]


@dataclass
class DemoContext:
    client: httpx.Client
    operator: Operator | None = None
    state: dict[str, Any] = field(default_factory=dict)
    #: what the current step has to tell, printed under its ``step <name>: ok`` line.
    notes: list[str] = field(default_factory=list)

    def get(self, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        response = self.client.get(path, headers=self._auth(token), **kwargs)
        return self._json(response, path)

    def post(
        self, path: str, body: dict[str, Any] | None = None, *, token: str | None = None
    ) -> Any:
        response = self.client.post(path, json=body or {}, headers=self._auth(token))
        if response.status_code == 204:
            return {}
        return self._json(response, path)

    def delete(self, path: str, *, token: str | None = None) -> None:
        response = self.client.delete(path, headers=self._auth(token))
        if response.status_code != 204:
            self._json(response, path)

    def say(self, text: str) -> None:
        self.notes.append(text)

    def _auth(self, token: str | None) -> dict[str, str]:
        """The citizen's token unless another is given (a staff phone's; ``""``: none)."""
        token = self.state.get("access_token") if token is None else token
        return {"authorization": f"Bearer {token}"} if token else {}

    @staticmethod
    def _json(response: httpx.Response, path: str) -> Any:
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                fields = (error.get("details") or {}).get("fields") or []
                listed = "; ".join(f"{f.get('field')}: {f.get('message')}" for f in fields)
                raise StepFailed(
                    f"{path}: {response.status_code} {error['code']} {error['message']}"
                    + (f" ({listed})" if listed else "")
                )
            except (ValueError, KeyError):
                raise StepFailed(f"{path}: HTTP {response.status_code}") from None
        return response.json()


def step_browse(ctx: DemoContext) -> None:
    page = ctx.get("/api/v1/items", params={"q": "sfz"})
    names = [item["name"] for item in page["items"]]
    if not any("身份证" in name for name in names):
        raise StepFailed(f"searching 'sfz' found no ID-card item: {names}")
    code = next(item["code"] for item in page["items"] if "身份证" in item["name"])
    guide = ctx.get(f"/api/v1/items/{code}")
    if not guide.get("materials") or not guide.get("departments"):
        raise StepFailed(f"guide {code} lacks materials or departments")
    ctx.state["item_code"] = code


def step_login(ctx: DemoContext) -> None:
    """wx.login on the phone (the sandbox stands in for WeChat), then our login."""
    issued = ctx.post("/sandbox/wechat/_control/login-code")
    code = issued["code"]
    ctx.state["openid"] = issued["openid"]
    tokens = ctx.post("/api/v1/auth/wechat/login", {"code": code})
    ctx.state["access_token"] = tokens["access_token"]
    me = ctx.get("/api/v1/me")
    ctx.state["user_id"] = me["id"]
    if me["realname_level"] != 0:
        raise StepFailed(f"a new user should start at level 0, got {me['realname_level']}")
    refreshed = ctx.post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    ctx.state["access_token"] = refreshed["access_token"]


def step_realname(ctx: DemoContext) -> None:
    """Level 1 with a name and ID number, then level 2 by WeChat face verification."""
    body = f"360426{1960 + secrets.randbelow(40)}0101{secrets.randbelow(1000):03d}"
    id_number = complete_id_number(body)
    me = ctx.post("/api/v1/me/realname", {"name": "张三", "id_number": id_number})
    if me["realname_level"] != 1 or id_number in str(me):
        raise StepFailed("level 1 not reached, or the ID number came back unmasked")
    verify_id = ctx.post("/api/v1/me/face")["verify_id"]
    ctx.post("/sandbox/wechat/_control/face-complete", {"verify_id": verify_id})
    me = ctx.post("/api/v1/me/face/result", {"verify_id": verify_id})
    if me["realname_level"] != 2:
        raise StepFailed(f"face verification did not reach level 2: {me['realname_level']}")


def demo_photo() -> bytes:
    """A phone photo as phones take them: JPEG, rotated by EXIF, with a GPS position."""
    image = Image.new("RGB", (1200, 900), (200, 180, 150))
    for x in range(0, 1200, 40):  # some texture, so it is not a flat colour
        image.paste((40 + x % 200, 90, 160), (x, 0, x + 20, 900))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "DemoPhone"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (28.0, 41.0, 0.0), 3: "E", 4: (115.0, 53.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def _upload_photo(
    ctx: DemoContext, item_code: str, material_code: str, *, case_id: int | None = None
) -> dict[str, Any]:
    """One phone photo for a material, as the mini-program sends it: the intent (a presigned
    POST policy), ``wx.uploadFile``'s multipart form to the object store, then completion."""
    photo = demo_photo()
    intent = ctx.post(
        "/api/v1/uploads",
        {
            "item_code": item_code,
            "material_code": material_code,
            "filename": "IMG_0001.jpg",
            "content_type": "image/jpeg",
            "size": len(photo),
        }
        | ({"case_id": case_id} if case_id is not None else {}),
    )
    # wx.uploadFile: multipart POST of formData plus the file under ``name``.
    sent = ctx.client.post(
        intent["url"],
        data=intent["fields"],
        files={intent["file_field"]: ("IMG_0001.jpg", photo, "image/jpeg")},
    )
    if sent.status_code not in (200, 201, 204):
        raise StepFailed(f"object store refused the upload: {sent.status_code} {sent.text[:200]}")
    done: dict[str, Any] = ctx.post(f"/api/v1/uploads/{intent['upload_id']}/complete")
    if done["status"] != "ready" or not done.get("url"):
        raise StepFailed(f"upload not ready: {done['status']}")
    return done


def step_upload(ctx: DemoContext) -> None:
    """A photo with GPS EXIF, uploaded the way wx.uploadFile does, comes back stripped."""
    code = ctx.state["item_code"]
    guide = ctx.get(f"/api/v1/items/{code}")
    material = next(m for m in guide["materials"] if "jpg" in m["formats"])
    done = _upload_photo(ctx, code, material["code"])
    stored = Image.open(io.BytesIO(ctx.client.get(done["url"]).content))
    exif = stored.getexif()
    if exif.get_ifd(0x8825) or 0x8825 in exif or stored.size != (900, 1200):
        raise StepFailed("the stored photo kept its GPS position or was not turned upright")
    ctx.state.setdefault("uploads", {})[material["code"]] = done["id"]
    ctx.state["guide"] = guide


#: What the demo applicant fills in for an item's form (the ID-card items of the demo catalogue,
#: which ``browse`` finds; any other item gets the first choice of every enumerated field).
DEMO_FORMS: dict[str, dict[str, Any]] = {
    "GA-SFZ-HL": {
        "reason": "有效期满",
        "photo_receipt_no": "DEMO2024A001",
        "delivery_method": "窗口领取",
    },
    "GA-SFZ-BL": {
        "loss_reason": "丢失",
        "photo_receipt_no": "DEMO2024A001",
        "delivery_method": "窗口领取",
    },
}


def _demo_form(guide: dict[str, Any]) -> dict[str, Any]:
    if guide["code"] in DEMO_FORMS:
        return dict(DEMO_FORMS[guide["code"]])
    properties = (guide.get("form_schema") or {}).get("properties", {})
    return {name: spec["enum"][0] for name, spec in properties.items() if spec.get("enum")}


def step_submit(ctx: DemoContext) -> None:
    """Draft, one photo for every required material, then submit; the checklist as the phone
    shows it."""
    guide = ctx.state["guide"]
    code = guide["code"]
    case = ctx.post("/api/v1/cases", {"item_code": code, "form": _demo_form(guide)})
    case_id = case["id"]
    ctx.state["case_id"] = case_id
    required = [m for m in guide["materials"] if m.get("requirement", "required") == "required"]
    if not required or any("jpg" not in m["formats"] for m in required):
        raise StepFailed(f"item {code}: the demo can only photograph jpg materials")
    for material in required:
        _upload_photo(ctx, code, material["code"], case_id=case_id)
    if "openid" in ctx.state:
        # A phone that logged in here knows its WeChat; a caller bringing its own token (the
        # fuzzers' scene) has no consent sheet to show.
        _bind_phone(ctx)
        allowed = _allow(ctx, "submit")
        ctx.say(
            f"subscribe messages allowed before submitting (wx.requestSubscribeMessage): {allowed}"
        )
    submitted = ctx.post(f"/api/v1/cases/{case_id}/submit")
    if submitted["status"] != "submitted":
        raise StepFailed(f"case {case_id} is {submitted['status']} after submitting")
    detail = ctx.get(f"/api/v1/cases/{case_id}")
    ctx.say(f"case {case_id}: {detail['item_name']}, {detail['status_label']}")
    for row in detail["checklist"]:
        mark = "✓" if row["satisfied"] else "✗"
        need = (
            "needed" if row["needed"] else f"not needed ({row['condition'] or row['requirement']})"
        )
        ctx.say(f"  {mark} {row['name']}: {need}, {row['files']} file(s)")
    if not all(row["satisfied"] for row in detail["checklist"]):
        raise StepFailed("the checklist is not satisfied after submitting")
    ctx.say(f"answer due (article 32: accepted if unanswered) by {detail['answer_due_on']}")


def _bind_phone(ctx: DemoContext) -> None:
    """The phone-number button (getPhoneNumber): the only number SMS messages go to."""
    code = ctx.post(
        "/sandbox/wechat/_control/phone-code",
        {"openid": ctx.state["openid"], "phone_number": DEMO_PHONE},
    )["code"]
    ctx.post("/api/v1/me/phone", {"code": code})


#: The demo citizen's phone number (a sandbox number: the SMS peer keeps what it "sends").
DEMO_PHONE = "13800138000"


def _allow(ctx: DemoContext, moment: str, *, staff_token: str | None = None) -> list[str]:
    """What the phone does before a submission or a payment: ask the server which templates to
    ask for, show WeChat's consent sheet (the sandbox plays the tap on "allow"), and report the
    answers. The titles of the templates allowed."""
    if staff_token is not None:
        wanted = ctx.get("/api/v1/staff/subscriptions/to-ask", token=staff_token)
        openid = ctx.state["staff_openids"][staff_token]
    else:
        wanted = ctx.get("/api/v1/me/subscriptions/to-ask", params={"moment": moment})
        openid = ctx.state["openid"]
    results = {t: "accept" for t in wanted["template_ids"]}
    titles = ctx.state.setdefault("template_titles", {})
    titles.update({t["template_id"]: t["title"] for t in wanted["templates"]})
    if not results:
        return []
    ctx.post("/sandbox/wechat/_control/subscribe", {"openid": openid, "results": results})
    path = "/api/v1/staff/subscriptions" if staff_token else "/api/v1/me/subscriptions"
    ctx.post(path, {"results": results}, token=staff_token)
    return [t["title"] for t in wanted["templates"]]


# -- the staff of the item's department, as their phones see it ----------------------------------


def _bind_staff(ctx: DemoContext, bind_code: str) -> str:
    """A staff member's phone: wx.login (a WeChat of its own), bind with the one-time code;
    the staff access token."""
    issued = ctx.post("/sandbox/wechat/_control/login-code", token="")
    bound = ctx.post(
        "/api/v1/staff/auth/bind", {"bind_code": bind_code, "code": issued["code"]}, token=""
    )
    token = str(bound["access_token"])
    ctx.state.setdefault("staff_openids", {})[token] = issued["openid"]
    return token


def _office(ctx: DemoContext) -> dict[str, str]:
    """Staff tokens by role (clerk, reviewer, approver) in the item's lead department, made as an
    operator would: the department's admin with ``zhangban staff create``, the others by that
    admin through the admin API; each binds its own WeChat."""
    office: dict[str, str] | None = ctx.state.get("office")
    if office is not None:
        return office
    if ctx.operator is None:
        raise StepFailed("no way to run `zhangban staff create` for this server")
    department = ctx.state["guide"]["lead_department"]
    tag = secrets.token_hex(3)
    output = ctx.operator(
        [
            "staff",
            "create",
            "--username",
            f"demo-admin-{tag}",
            "--name",
            "演示管理员",
            "--department",
            department,
            "--roles",
            "admin",
        ]
    )
    try:
        admin_code = json.loads(output)["bind_code"]
    except (ValueError, KeyError, TypeError):
        raise StepFailed(f"zhangban staff create printed no binding code: {output[:200]}") from None
    admin = _bind_staff(ctx, admin_code)
    ctx.state["admin"] = admin
    office = {}
    for role, name in (
        ("clerk", "演示窗口人员"),
        ("reviewer", "演示审查人员"),
        ("approver", "演示审批人员"),
    ):
        created = ctx.post(
            "/api/v1/admin/staff",
            {"username": f"demo-{role}-{tag}", "name": name, "roles": [role]},
            token=admin,
        )
        office[role] = _bind_staff(ctx, created["bind_code"])
    ctx.state["office"] = office
    # The clerk allows the long-term "new work" messages once, after binding.
    _allow(ctx, "staff", staff_token=office["clerk"])
    ctx.say(
        f"staff of {department}: an admin (zhangban staff create) and a clerk, a reviewer and "
        "an approver (admin API), each bound to a WeChat of its own"
    )
    return office


def _inbox_row(ctx: DemoContext, role: str, case_id: int) -> dict[str, Any]:
    token = _office(ctx)[role]
    inbox = ctx.get("/api/v1/staff/inbox", params={"role": role}, token=token)
    row = next((r for r in inbox["items"] if r["id"] == case_id), None)
    if row is None:
        raise StepFailed(f"case {case_id} is not in the {role}'s inbox")
    return dict(row)


def step_correction(ctx: DemoContext) -> None:
    """The clerk returns the case with one complete list; the applicant replaces the listed photo
    (and nothing else) and resubmits."""
    case_id = ctx.state["case_id"]
    clerk = _office(ctx)["clerk"]
    _inbox_row(ctx, "clerk", case_id)
    # the photo receipt of the ID-card items (else the last required material)
    required = [m for m in ctx.state["guide"]["materials"] if m.get("requirement") == "required"]
    listed = next((m for m in required if m["code"] == "photo-receipt"), required[-1])
    problem = "照片模糊，请在光线充足处重新拍摄。"
    returned = ctx.post(
        f"/api/v1/staff/cases/{case_id}/corrections",
        {"items": [{"kind": "material", "code": listed["code"], "problem": problem}]},
        token=clerk,
    )
    if returned["status"] != "correction_requested":
        raise StepFailed(f"case {case_id} is {returned['status']} after the correction notice")
    detail = ctx.get(f"/api/v1/cases/{case_id}")
    notice = detail["correction"]
    ctx.say(
        f"notice round {notice['round']}: "
        + "; ".join(f"{i['code']}: {i['problem']}" for i in notice["items"])
    )
    old = [f for f in detail["files"] if f["material_code"] == listed["code"]]
    for file in old:
        ctx.delete(f"/api/v1/uploads/{file['id']}")
    _upload_photo(ctx, detail["item_code"], listed["code"], case_id=case_id)
    resubmitted = ctx.post(f"/api/v1/cases/{case_id}/submit")
    if resubmitted["status"] != "submitted":
        raise StepFailed(f"case {case_id} is {resubmitted['status']} after resubmitting")
    ctx.say(f"replaced {listed['name']} and resubmitted: {resubmitted['status_label']}")


def step_accept(ctx: DemoContext) -> None:
    case_id = ctx.state["case_id"]
    clerk = _office(ctx)["clerk"]
    _inbox_row(ctx, "clerk", case_id)
    accepted = ctx.post(
        f"/api/v1/staff/cases/{case_id}/accept", {"comment": "材料齐全，予以受理。"}, token=clerk
    )
    number = accepted.get("acceptance_number")
    if accepted["status"] != "accepted" or not number:
        raise StepFailed(f"case {case_id} is {accepted['status']} without an acceptance number")
    detail = ctx.get(f"/api/v1/cases/{case_id}")
    if not (detail["statutory_due_on"] and detail["promised_due_on"]):
        raise StepFailed("accepted without due dates")
    public = ctx.get(f"/api/v1/public/cases/{number}", token="", params={"name": "张三"})
    if public["status"] != "accepted":
        raise StepFailed(f"the public status page says {public['status']}")
    ctx.say(f"acceptance number {number}, accepted on {detail['accepted_on']}")
    ctx.say(
        f"due (working days): promised {detail['promised_due_on']}, "
        f"statutory {detail['statutory_due_on']}"
    )


def _claim_and_pass(ctx: DemoContext, role: str, opinion: str) -> dict[str, Any]:
    """Take the case's open task of ``role`` from the department inbox and pass it."""
    case_id = ctx.state["case_id"]
    token = _office(ctx)[role]
    row = _inbox_row(ctx, role, case_id)
    task = row["task"]
    if task["status"] != "open":
        raise StepFailed(f"the {role}'s task of case {case_id} is {task['status']}, not open")
    ctx.post(f"/api/v1/staff/tasks/{task['id']}/claim", token=token)
    decided: dict[str, Any] = ctx.post(
        f"/api/v1/staff/tasks/{task['id']}/decide",
        {"outcome": "pass", "opinion": opinion},
        token=token,
    )
    ctx.say(
        f"{role} claimed task {task['id']} ({task['step_name']}) and passed it: "
        f"{decided['status_label']}"
    )
    return decided


def step_review(ctx: DemoContext) -> None:
    decided = _claim_and_pass(ctx, "reviewer", "材料齐全，符合法定条件。")
    if decided["status"] != "in_review":
        raise StepFailed(f"after the review step the case is {decided['status']}")


def step_decide(ctx: DemoContext) -> None:
    decided = _claim_and_pass(ctx, "approver", "同意，准予许可。")
    detail = ctx.get(f"/api/v1/cases/{ctx.state['case_id']}")
    if detail["decision"] != "granted" or detail["status"] not in ("fee_due", "result_pending"):
        raise StepFailed(f"the case is {decided['status']} ({detail['decision']}), not granted")
    fee = f", fee {detail['fee_fen'] / 100:.2f} yuan" if detail["status"] == "fee_due" else ""
    ctx.say(
        f"final status {detail['status']} ({detail['status_label']}){fee}; "
        f"predicted completion {detail['predicted_on']}"
    )


def step_pay(ctx: DemoContext) -> None:
    """The applicant pays the fee through the WeChat Pay sandbox: the payment sheet, the payer's
    tap (the peer's control API plays it), the signed callback, the case moving on, and the
    receipt checked as anyone holding it would check it."""
    case_id = ctx.state["case_id"]
    fee = ctx.get(f"/api/v1/cases/{case_id}/fee")
    if fee["status"] != "open":
        raise StepFailed(f"the fee notice is {fee['status']}, not open")
    if "openid" in ctx.state:
        _allow(ctx, "pay")
    checkout = ctx.post(
        f"/api/v1/cases/{case_id}/fee/pay",
        {"channel": "wechatpay", "mode": "in_app"},
    )
    if not checkout["client"].get("paySign"):
        raise StepFailed("no wx.requestPayment parameters")
    # wx.requestPayment with exactly what the server handed out (the sandbox checks the paySign).
    paid = ctx.client.post(
        "/sandbox/wechatpay/_control/request-payment", json={"params": checkout["client"]}
    )
    if paid.status_code != 200 or paid.json().get("errMsg") != "requestPayment:ok":
        raise StepFailed(f"the WeChat Pay sandbox did not take the payment ({paid.text[:200]})")
    back = ctx.post(
        f"/api/v1/cases/{case_id}/fee/returned",
        {"out_trade_no": checkout["out_trade_no"]},
    )
    ctx.say(f"back from the payment sheet: the fee is {back['status_label']}")
    deadline = time.monotonic() + 30
    while True:
        detail = ctx.get(f"/api/v1/cases/{case_id}")
        if detail["status"] == "result_pending":
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"the case is still {detail['status']} 30 s after the payment")
        time.sleep(0.2)
    fee = ctx.get(f"/api/v1/cases/{case_id}/fee")
    payment = fee["payments"][0]
    receipt = ctx.get(f"/api/v1/cases/{case_id}/payments/{payment['id']}/receipt")
    checked = ctx.get(
        "/api/v1/public/receipts/verify",
        token="",
        params={
            "receipt_number": receipt["receipt_number"],
            "code": receipt["verification_code"],
        },
    )
    if not checked.get("valid"):
        raise StepFailed("the receipt does not verify")
    ctx.say(
        f"notice {fee['notice_number']}: paid ¥{receipt['amount']} ({receipt['amount_in_words']}) "
        f"by WeChat Pay; case {detail['status']} ({detail['status_label']}); receipt "
        f"{receipt['receipt_number']} verified"
    )


def _sms_waiting(ctx: DemoContext) -> list[str]:
    """When the applicant's queued SMS are due (local time), from the message ledger as the
    department's admin reads it: the ones held back by the quiet hours."""
    page = ctx.get(
        "/api/v1/admin/notify/deliveries",
        params={"status": "queued", "limit": 50},
        token=ctx.state["admin"],
    )
    now = datetime.now(UTC)
    return [
        datetime.fromisoformat(d["next_at"]).astimezone(timezone(CHINA)).strftime("%H:%M")
        for d in page["deliveries"]
        if d["channel"] == "sms"
        and d["recipient"] == user_ref(ctx.state["user_id"])
        and d["next_at"]
        and datetime.fromisoformat(d["next_at"]) > now
    ]


def step_notify(ctx: DemoContext) -> None:
    """What reached the applicant for each earlier step, by channel: WeChat subscribe messages
    while allowed ones were left, SMS (to the bound number) when none was, and the inbox always;
    and the clerk's queue messages."""
    openid = ctx.state["openid"]
    deadline = time.monotonic() + 30
    while True:
        inbox = ctx.get("/api/v1/me/messages", params={"limit": 50})
        kinds = [m["kind"] for m in reversed(inbox["messages"])]
        if "case.paid" in kinds or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    for wanted in ("case.submitted", "case.correction_requested", "case.accepted", "case.paid"):
        if wanted not in kinds:
            raise StepFailed(f"no {wanted} message in the inbox: {kinds}")
    ctx.say(
        f"inbox ({inbox['unread']} unread): "
        + ", ".join(m["title"] for m in reversed(inbox["messages"]))
    )
    wechat = ctx.get("/sandbox/wechat/_control/subscribe-messages", params={"openid": openid})
    ctx.say(
        f"WeChat subscribe messages: {len(wechat['messages'])} ("
        + ", ".join(
            ctx.state.get("template_titles", {}).get(m["template_id"], m["template_id"])
            for m in wechat["messages"]
        )
        + ")"
    )
    deadline = time.monotonic() + 15
    while True:
        sms = ctx.get("/sandbox/sms/_control/messages", params={"phone": DEMO_PHONE})
        if sms["messages"] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    # In the quiet hours (22:00-08:00 local by default) an SMS that is not urgent waits in the
    # ledger for the morning: the demo shows it there instead, as an operator would find it.
    waiting = [] if sms["messages"] else _sms_waiting(ctx)
    ctx.say(
        f"SMS to {DEMO_PHONE[:3]}****{DEMO_PHONE[-4:]} when no WeChat consent was left: "
        f"{len(sms['messages'])}"
        + (
            f" now, {len(waiting)} waiting for the end of the quiet hours (due {waiting[0]})"
            if waiting
            else ""
        )
    )
    if not wechat["messages"]:
        raise StepFailed("no WeChat subscribe message reached the applicant")
    if not sms["messages"] and not waiting:
        raise StepFailed("no SMS reached the applicant once the WeChat consents were used up")
    clerk = _office(ctx)["clerk"]
    lines = ctx.get("/api/v1/staff/messages", token=clerk)["messages"]
    queue = [m for m in lines if m["kind"] == "staff.queue"]
    if not queue:
        raise StepFailed("the clerk's inbox has no queue message")
    ctx.say(f"clerk's inbox: {len(queue)} new-case message(s): {queue[0]['body']}")


#: The steps built so far; the others print ``not built`` and do not fail the run.
BUILT: dict[str, Callable[[DemoContext], None]] = {
    "browse": step_browse,
    "login": step_login,
    "realname": step_realname,
    "upload": step_upload,
    "submit": step_submit,
    "correction": step_correction,
    "accept": step_accept,
    "review": step_review,
    "decide": step_decide,
    "pay": step_pay,
    "notify": step_notify,
}


def walk(
    client: httpx.Client, out: Callable[[str], None] = print, *, operator: Operator | None = None
) -> bool:
    """Every step in order, one ``step <name>: …`` line each; what a step has to tell follows
    its line, indented."""
    ctx = DemoContext(client, operator)
    ok = True
    for name in STEPS:
        step = BUILT.get(name)
        if step is None:
            out(f"step {name}: not built")
            continue
        if not ok:
            out(f"step {name}: FAILED an earlier step failed")
            continue
        ctx.notes = []
        try:
            step(ctx)
            out(f"step {name}: ok")
        except (StepFailed, httpx.HTTPError, KeyError, ValueError) as exc:
            out(f"step {name}: FAILED {exc}")
            ok = False
        for note in ctx.notes:
            out(f"    {note}")
    return ok


def cli_operator(env: dict[str, str]) -> Operator:
    """``zhangban <args>`` in a subprocess with ``env`` (the server's settings)."""

    def run(args: list[str]) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )
        if result.returncode != 0:
            raise StepFailed(
                f"zhangban {' '.join(args[:2])} exited {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()[-300:]}"
            )
        return result.stdout

    return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StepFailed(f"demo server exited with code {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=10).status_code == 200:
                return
        time.sleep(0.2)
    raise StepFailed("demo server did not become ready in time")


@contextlib.contextmanager
def embedded_server() -> Iterator[tuple[str, dict[str, str]]]:
    """A private embedded server on a free port, with its own database in a temporary folder:
    its base URL and its environment (for ``zhangban`` commands on the same database)."""
    with tempfile.TemporaryDirectory(prefix="zhangban-demo-") as var_dir:
        port = _free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("ZB_")} | {
            "ZB_PROFILE": "embedded",
            "ZB_VAR_DIR": var_dir,
            "ZB_PORT": str(port),
            "ZB_ACCESS_LOG": "false",
            "ZB_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "api.cli"]
        for setup in (["migrate"], ["seed"]):
            subprocess.run([*command, *setup], env=env, check=True, stdout=subprocess.DEVNULL)
        log_path = os.path.join(var_dir, "server.log")
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [*command, "serve"], env=env, stdout=log_file, stderr=log_file
            )
            base_url = f"http://127.0.0.1:{port}"
            try:
                _wait_ready(base_url, process)
                yield base_url, env
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def run_demo(settings: Settings, *, base_url: str | None) -> int:
    try:
        if base_url:
            # The operator's own settings reach the server's database (staff accounts).
            operator = cli_operator(dict(os.environ))
            with httpx.Client(base_url=base_url, timeout=30) as client:
                return 0 if walk(client, operator=operator) else 1
        with embedded_server() as (url, env), httpx.Client(base_url=url, timeout=30) as client:
            return 0 if walk(client, operator=cli_operator(env)) else 1
    except (StepFailed, subprocess.CalledProcessError) as exc:
        print(f"demo could not start: {exc}", file=sys.stderr)
        return 1
