"""Fee orders, their WeChat Pay attempts and the signed payment notifications of bench/payments.sh.

Runs with the server's settings (the ``ZB_*`` environment of the benchmark: its database, its
``ZB_SANDBOX_KEYS_DIR``, ``ZB_WECHAT_APPID``, ``ZB_WECHATPAY_MCH_ID``):

    python bench/payments_seed.py keys
        makes the sandbox key folder (``sandbox.keys.ensure_sandbox_keys``) the server reads
    python bench/payments_seed.py seed --count N --out BODIES
        N open fee orders (references ``case:<n>`` without case rows), each with one open WeChat
        Pay attempt, written through the ORM as ``payments.orders`` and ``payments.checkout``
        leave them (number from ``attempt_number``, 30-minute expiry); then each attempt is
        ordered and paid at an in-process WeChat Pay peer (``sandbox.wechatpay.WeChatPaySandbox``:
        ``create_order`` with what ``WeChatPayChannel.charge`` sends, ``pay`` with the ``drop``
        fault so that nothing is sent, ``query_order`` for the transaction it notifies), and its
        TRANSACTION.SUCCESS notification body is written to BODIES, ``out_trade_no<TAB>body`` a
        line, in the order of the attempts
    python bench/payments_seed.py sign --bodies BODIES --cursor FILE --count N --out FILE
            --ids-out FILE
        signs the next N bodies not yet signed (FILE holds how many were), for one run of fresh
        callbacks: ``timestamp<TAB>nonce<TAB>signature<TAB>serial<TAB>body`` a line, and the
        attempts' numbers one a line to --ids-out
    python bench/payments_seed.py sign --bodies BODIES --paid MAX --out FILE --ids-out FILE
        signs the notifications of (up to MAX, a random sample) attempts already paid: a run of
        duplicate callbacks
    python bench/payments_seed.py count
        prints the number of payments recorded
    python bench/payments_seed.py verify --fresh TAG:IDS:WRK_OUTPUT ... --dup-counts FILE
            --connections C --json-out FILE
        after the load: exactly once, as seen from the database (see ``verify``)

What is the peer's and what is written here: the transaction inside each notification, the
AEAD_AES_256_GCM encryption of the resource (``encrypt_resource``) and the four ``Wechatpay-*``
headers (``WeChatPaySandbox.signed_headers``: SHA256withRSA with the platform key over
``timestamp\\nnonce\\nbody\\n``) are the peer's own code. The notification envelope
(``notification_body``) is re-written here after ``WeChatPaySandbox._notify``, which makes and
sends it in one step and exposes no builder: the same six keys, in the same order, with the same
compact JSON. The server's acceptance of each notification (204 and a payment, checked before
the load) is what shows the two agree.

Signatures are made right before each run (``Wechatpay-Timestamp`` must be within 300 s of the
server's clock), in ``SIGN_PROCESSES`` processes: SHA256withRSA-2048 costs about 0.7 ms a
notification here. Exit status 0 on success, 1 on any problem (printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.clock import local_today, utcnow  # noqa: E402
from core.db import close_db, fetch_rows, init_db  # noqa: E402
from core.settings import Settings  # noqa: E402
from payments.channels import Channels  # noqa: E402
from payments.models import AttemptStatus, ChannelOrder, FeeOrder, OrderStatus  # noqa: E402
from payments.orders import ATTEMPT_TTL, OrderLine, attempt_number  # noqa: E402
from payments.providers.base import ChargeMode  # noqa: E402
from sandbox.keys import ensure_sandbox_keys  # noqa: E402
from sandbox.wechatpay import Faults, WeChatPaySandbox, encrypt_resource  # noqa: E402

CHINA = timezone(timedelta(hours=8))
CHANNEL = "wechatpay"
#: far above any real case id: the references name no case (the worker is off during the run)
REFERENCE_BASE = 900_000_000
AMOUNT_FEN = 5000
TITLE = "压测缴费事项 工本费"
DEPARTMENT = ("BENCH-PAY", "压测市缴费局")
BATCH = 1000
SIGN_PROCESSES = max(1, min(2, os.cpu_count() or 1))
SIGN_CHUNK = 500


def fail(message: str) -> None:
    print(f"payments_seed.py: {message}", file=sys.stderr)
    raise SystemExit(1)


def peer(settings: Settings) -> WeChatPaySandbox:
    """The WeChat Pay peer, in this process, on the key folder the server reads."""
    return WeChatPaySandbox(
        keys_dir=settings.effective_sandbox_keys_dir,
        appid=settings.wechat_appid,
        mch_id=settings.wechatpay_mch_id,
    )


def compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def notification_body(state: WeChatPaySandbox, transaction: dict[str, Any]) -> bytes:
    """A TRANSACTION.SUCCESS notification as ``WeChatPaySandbox._notify`` makes it."""
    resource = encrypt_resource(state.apiv3_key, compact(transaction), "transaction")
    resource["original_type"] = "transaction"
    return compact(
        {
            "id": str(uuid.uuid4()),
            "create_time": datetime.fromtimestamp(state.now(), CHINA).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": resource,
        }
    )


# --- seed ----------------------------------------------------------------------------------------


async def seed(count: int, out: Path) -> None:
    settings = Settings()
    state = peer(settings)
    state.faults = Faults(drop=True)  # the peer records the payment and sends nothing
    notify_url = Channels(
        by_name={},
        public_base_url=settings.payment_notify_base_url or settings.effective_public_base_url,
    ).payment_url(CHANNEL)
    line = OrderLine(name="工本费", unit_fen=AMOUNT_FEN, quantity=1, unit="件")
    await init_db(settings)
    started = time.monotonic()
    written = 0
    try:
        with out.open("w", encoding="utf-8") as f:
            for first in range(0, count, BATCH):
                now = utcnow()
                last = min(count, first + BATCH)
                refs = [f"case:{REFERENCE_BASE + n}" for n in range(first, last)]
                await FeeOrder.bulk_create(
                    [
                        FeeOrder(
                            notice_number=f"JK{local_today(now):%Y%m%d}{REFERENCE_BASE + n:010d}",
                            reference=ref,
                            open_reference=ref,
                            title=TITLE,
                            lines=[line.as_dict()],
                            amount_fen=line.amount_fen,
                            payee_department_code=DEPARTMENT[0],
                            payee_department_name=DEPARTMENT[1],
                            payer_name="压测缴费人",
                            status=OrderStatus.open.value,
                            due_on=local_today(now) + timedelta(days=30),
                            opened_at=now,
                        )
                        for n, ref in enumerate(refs, start=first)
                    ]
                )
                orders = await FeeOrder.filter(reference__in=refs).order_by("id")
                expires_at = now + ATTEMPT_TTL
                attempts = [
                    ChannelOrder(
                        order_id=order.id,
                        channel=CHANNEL,
                        mode=ChargeMode.in_app.value,
                        out_trade_no=attempt_number(order, CHANNEL),
                        amount_fen=order.amount_fen,
                        status=AttemptStatus.open.value,
                        created_at=now,
                        expires_at=expires_at,
                    )
                    for order in orders
                ]
                await ChannelOrder.bulk_create(attempts)
                for n, attempt in enumerate(attempts, start=first):
                    # what WeChatPayChannel.charge sends for a mini-program payment
                    state.create_order(
                        {
                            "appid": settings.wechat_appid,
                            "mchid": settings.wechatpay_mch_id,
                            "description": TITLE[:127],
                            "out_trade_no": attempt.out_trade_no,
                            "time_expire": expires_at.astimezone(CHINA).isoformat(
                                timespec="seconds"
                            ),
                            "notify_url": notify_url,
                            "amount": {"total": attempt.amount_fen, "currency": "CNY"},
                            "payer": {"openid": f"o-bench-payer-{n}"},
                        },
                        trade_type="JSAPI",
                    )
                    state.pay(attempt.out_trade_no, None)
                    transaction = state.query_order(attempt.out_trade_no, settings.wechatpay_mch_id)
                    body = notification_body(state, transaction).decode()
                    if "\t" in body or "\n" in body:
                        fail("a notification body holds a tab or a newline")
                    f.write(f"{attempt.out_trade_no}\t{body}\n")
                    written += 1
    finally:
        await close_db()
    print(
        f"seeded {written} fee orders with one open {CHANNEL} attempt each, paid at the in-process "
        f"peer; notifications to {notify_url} in {time.monotonic() - started:.1f}s"
    )


# --- sign ----------------------------------------------------------------------------------------

_SIGNER: WeChatPaySandbox | None = None


def _start_signer() -> None:
    global _SIGNER
    _SIGNER = peer(Settings())


def _sign_chunk(bodies: list[str]) -> list[str]:
    assert _SIGNER is not None
    lines = []
    for body in bodies:
        h = _SIGNER.signed_headers(body.encode())
        lines.append(
            f"{h['Wechatpay-Timestamp']}\t{h['Wechatpay-Nonce']}\t{h['Wechatpay-Signature']}\t"
            f"{h['Wechatpay-Serial']}\t{body}"
        )
    return lines


def read_bodies(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            number, _, body = line.rstrip("\n").partition("\t")
            yield number, body


async def paid_numbers() -> list[str]:
    settings = Settings()
    await init_db(settings)
    try:
        rows = await fetch_rows(
            "SELECT out_trade_no FROM payments_channel_order WHERE channel = $1 AND status = $2",
            [CHANNEL, AttemptStatus.paid.value],
        )
    finally:
        await close_db()
    return [row["out_trade_no"] for row in rows]


def sign(args: argparse.Namespace) -> None:
    started = time.monotonic()
    if args.paid is not None:
        paid = asyncio.run(paid_numbers())
        if not paid:
            fail("no paid attempt to send duplicates of")
        chosen = set(random.Random(len(paid)).sample(paid, min(args.paid, len(paid))))
        picked = [(n, b) for n, b in read_bodies(args.bodies) if n in chosen]
        what = f"{len(picked)} duplicates (of {len(paid)} paid attempts)"
    else:
        done = int(args.cursor.read_text()) if args.cursor.exists() else 0
        picked = []
        for index, item in enumerate(read_bodies(args.bodies)):
            if index >= done + args.count:
                break
            if index >= done:
                picked.append(item)
        if len(picked) < args.count:
            fail(
                f"only {len(picked)} unsigned notifications left, {args.count} wanted: seed more "
                "(raise FRESH_MAX_RPS)"
            )
        args.cursor.write_text(str(done + len(picked)))
        what = f"{len(picked)} fresh notifications (#{done + 1}…{done + len(picked)})"
    bodies = [body for _, body in picked]
    chunks = [bodies[i : i + SIGN_CHUNK] for i in range(0, len(bodies), SIGN_CHUNK)]
    with ProcessPoolExecutor(SIGN_PROCESSES, initializer=_start_signer) as pool:
        signed = [line for lines in pool.map(_sign_chunk, chunks) for line in lines]
    args.out.write_text("".join(line + "\n" for line in signed), encoding="utf-8")
    args.ids_out.write_text("".join(n + "\n" for n, _ in picked), encoding="utf-8")
    print(f"signed {what} in {time.monotonic() - started:.1f}s")


# --- count and verify ---------------------------------------------------------------------------


async def payment_count() -> int:
    await init_db(Settings())
    try:
        rows = await fetch_rows("SELECT count(*) AS n FROM payments_payment")
    finally:
        await close_db()
    return int(rows[0]["n"])


def wrk_figures(path: Path) -> tuple[int, int]:
    """(answers wrk counted, notifications the script handed out) of one wrk output."""
    text = path.read_text(errors="replace")
    answered = re.search(r"^\s*(\d+) requests in ", text, re.M)
    used = [int(m) for m in re.findall(r"thread \d+ used (\d+) of its", text)]
    if answered is None or not used:
        fail(f"{path}: no request count or no payments.lua report")
    assert answered is not None
    return int(answered.group(1)), sum(used)


async def verify(args: argparse.Namespace) -> int:
    """Exactly once, from the database, after the load:

    * per fresh run: every notification answered 204 was recorded, so the payments of the run's
      attempts are at least the answers wrk counted (each request carried a different
      notification), at most what the script handed out, and at most the answers plus one
      request in flight per connection when wrk stopped (handled after wrk's count);
    * across the runs: one payment per transaction, per attempt and per order, all ``applied``
      (none ``surplus``), no refund, each order paid by its payment, one ``payment.paid`` event
      each, and no payment of an attempt whose notification was never sent;
    * every duplicate run recorded nothing (the payment count before and after it).
    """
    problems: list[str] = []
    runs: list[dict[str, Any]] = []
    await init_db(Settings())
    try:
        sent: set[str] = set()
        for spec in args.fresh:
            tag, ids_file, wrk_out = spec.split(":", 2)
            numbers = Path(ids_file).read_text().split()
            sent |= set(numbers)
            if wrk_out == "-":  # the check before the load: one curl each
                answered = handed = len(numbers)
            else:
                answered, handed = wrk_figures(Path(wrk_out))
            rows = await fetch_rows(
                "SELECT count(*) AS n FROM payments_payment p JOIN payments_channel_order c "
                "ON c.id = p.attempt_id WHERE c.out_trade_no = ANY($1::text[])",
                [numbers],
            )
            paid = int(rows[0]["n"])
            runs.append({"run": tag, "answered_204": answered, "handed": handed, "payments": paid})
            if not answered <= paid <= min(handed, answered + args.connections):
                problems.append(
                    f"{tag}: {paid} payments for {answered} answers (handed {handed}; expected "
                    f"between the answers and the answers + {args.connections} in flight)"
                )
        totals = (
            await fetch_rows(
                """
                SELECT count(*) AS payments,
                       count(DISTINCT (p.channel, p.transaction_id)) AS transactions,
                       count(DISTINCT p.attempt_id) AS attempts,
                       count(DISTINCT p.order_id) AS orders,
                       count(*) FILTER (WHERE p.disposition <> 'applied') AS not_applied,
                       (SELECT count(*) FROM payments_refund) AS refunds,
                       (SELECT count(*) FROM payments_fee_order o
                         WHERE o.status = 'paid') AS orders_paid,
                       (SELECT count(*) FROM payments_fee_order o JOIN payments_payment q
                         ON q.id = o.payment_id WHERE o.status = 'paid') AS orders_paid_by_it,
                       (SELECT count(*) FROM payments_channel_order c
                         WHERE c.status = 'paid') AS attempts_paid,
                       (SELECT count(*) FROM core_outbox_event
                         WHERE topic = 'payment.paid') AS paid_events
                FROM payments_payment p
                """
            )
        )[0]
        totals = {k: int(v) for k, v in totals.items()}
        n = totals["payments"]
        for key in ("transactions", "attempts", "orders", "orders_paid", "orders_paid_by_it",
                    "attempts_paid", "paid_events"):  # fmt: skip
            if totals[key] != n:
                problems.append(f"{key} = {totals[key]}, payments = {n}: something recorded twice")
        if totals["not_applied"] or totals["refunds"]:
            problems.append(
                f"{totals['not_applied']} surplus payments, {totals['refunds']} refunds (none "
                "expected: every notification was for an open order)"
            )
        rows = await fetch_rows(
            "SELECT c.out_trade_no FROM payments_payment p JOIN payments_channel_order c "
            "ON c.id = p.attempt_id"
        )
        unsent = [row["out_trade_no"] for row in rows if row["out_trade_no"] not in sent]
        if unsent:
            problems.append(f"{len(unsent)} payments of attempts never notified, e.g. {unsent[0]}")
    finally:
        await close_db()
    dups = []
    for entry in args.dup_counts.read_text().splitlines() if args.dup_counts.exists() else []:
        tag, before, after, answered = entry.split()
        dups.append(
            {"run": tag, "before": int(before), "after": int(after), "answered_204": int(answered)}
        )
        if before != after:
            problems.append(f"duplicate run {tag}: payments went from {before} to {after}")
    fresh_answered = sum(r["answered_204"] for r in runs)
    document = {
        "ok": not problems,
        "problems": problems,
        "totals": totals,
        "fresh_runs": runs,
        "duplicate_runs": dups,
        "fresh_answered_204": fresh_answered,
        "duplicates_answered_204": sum(d["answered_204"] for d in dups),
    }
    args.json_out.write_text(json.dumps(document, indent=2) + "\n")
    print(
        f"exactly once: {n} payments = {totals['transactions']} transactions = "
        f"{totals['attempts']} attempts = {totals['orders_paid']} orders paid = "
        f"{totals['paid_events']} payment.paid events; {fresh_answered} fresh notifications "
        f"answered 204 (+ at most one in flight per connection at the end of each run); "
        f"{document['duplicates_answered_204']} duplicates answered 204 in {len(dups)} runs, "
        f"payments unchanged by each: {all(d['before'] == d['after'] for d in dups)}; "
        f"refunds {totals['refunds']}, surplus {totals['not_applied']}"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("keys")
    p_seed = sub.add_parser("seed")
    p_seed.add_argument("--count", type=int, required=True)
    p_seed.add_argument("--out", type=Path, required=True)
    p_sign = sub.add_parser("sign")
    p_sign.add_argument("--bodies", type=Path, required=True)
    p_sign.add_argument("--cursor", type=Path)
    p_sign.add_argument("--count", type=int)
    p_sign.add_argument("--paid", type=int, help="duplicates: at most this many paid attempts")
    p_sign.add_argument("--out", type=Path, required=True)
    p_sign.add_argument("--ids-out", type=Path, required=True)
    sub.add_parser("count")
    p_verify = sub.add_parser("verify")
    p_verify.add_argument("--fresh", action="append", default=[], help="TAG:IDS_FILE:WRK_OUTPUT")
    p_verify.add_argument("--dup-counts", type=Path, required=True)
    p_verify.add_argument("--connections", type=int, required=True)
    p_verify.add_argument("--json-out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.cmd == "keys":
        keys = ensure_sandbox_keys(Settings().effective_sandbox_keys_dir)
        print(f"sandbox keys in {keys.folder} (platform key {keys.wechatpay_platform_key_id})")
    elif args.cmd == "seed":
        if args.count < 1:
            fail("--count must be positive")
        asyncio.run(seed(args.count, args.out))
    elif args.cmd == "sign":
        if args.paid is None and (args.cursor is None or args.count is None or args.count < 1):
            fail("sign needs --paid MAX, or --cursor FILE and a positive --count")
        sign(args)
    elif args.cmd == "count":
        print(asyncio.run(payment_count()))
    else:
        return asyncio.run(verify(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
