"""A receipt as a one-page PDF (A5 landscape), drawn with ReportLab.

The Chinese text uses ReportLab's ``STSong-Light``, one of the Adobe CID fonts every PDF reader
knows by name, so the file needs no font file on the server and stays a few kilobytes. Drawing
is CPU work (a few milliseconds): callers run it in a thread.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def render(receipt: dict[str, Any]) -> bytes:
    """The PDF of ``payments.views.receipt_data`` (the payer's full view)."""
    buffer = io.BytesIO()
    width, height = landscape(A5)
    pdf = Canvas(buffer, pagesize=(width, height), invariant=True)
    pdf.setTitle(f"缴费凭证 {receipt['receipt_number']}")
    pdf.setAuthor(receipt["payee_department"])
    pdf.setFont(FONT, 18)
    pdf.drawCentredString(width / 2, height - 18 * mm, "政务服务缴费凭证")
    pdf.setFont(FONT, 9)
    pdf.drawString(12 * mm, height - 26 * mm, f"票据号码：{receipt['receipt_number']}")
    pdf.drawRightString(
        width - 12 * mm, height - 26 * mm, f"缴款通知书编号：{receipt['notice_number']}"
    )
    rows = [
        ("缴款人", receipt["payer"]),
        ("发票抬头", receipt.get("title") or "—"),
        ("纳税人识别号", receipt.get("tax_number") or "—"),
        ("缴费事项", receipt["item"]),
        ("金额（小写）", f"¥{receipt['amount']}"),
        ("金额（大写）", f"人民币{receipt['amount_in_words']}"),
        ("收款单位", receipt["payee_department"]),
        ("缴费时间", receipt["paid_at_china"]),
        ("支付方式", receipt["channel_name"]),
        ("支付交易号", receipt["transaction_id"]),
        ("校验码", receipt.get("verification_code", "")),
    ]
    if receipt.get("note"):
        rows.append(("说明", receipt["note"]))
    top = height - 34 * mm
    line = 7.2 * mm
    pdf.setFont(FONT, 10.5)
    for index, (label, value) in enumerate(rows):
        y = top - index * line
        pdf.drawString(16 * mm, y, label)
        pdf.drawString(48 * mm, y, str(value))
        pdf.setLineWidth(0.3)
        pdf.line(14 * mm, y - 2.2 * mm, width - 14 * mm, y - 2.2 * mm)
    pdf.setFont(FONT, 8)
    pdf.drawString(
        12 * mm,
        10 * mm,
        "凭票据号码和校验码可在“掌办”查验本凭证真伪（/api/v1/public/receipts/verify）。",
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
