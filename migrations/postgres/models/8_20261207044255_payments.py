from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "payments_discrepancy" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "channel" VARCHAR(16) NOT NULL,
    "day" DATE NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "entry" VARCHAR(8) NOT NULL,
    "out_trade_no" VARCHAR(64) NOT NULL,
    "out_refund_no" VARCHAR(64) NOT NULL,
    "transaction_id" VARCHAR(64) NOT NULL,
    "ours_fen" BIGINT,
    "theirs_fen" BIGINT,
    "department_code" VARCHAR(64) NOT NULL,
    "found_at" TIMESTAMPTZ NOT NULL,
    "resolved_at" TIMESTAMPTZ,
    "resolved_by" VARCHAR(32) NOT NULL,
    "note" VARCHAR(500) NOT NULL,
    CONSTRAINT "uid_payments_di_channel_f0de20" UNIQUE ("channel", "day", "kind", "entry", "out_trade_no", "out_refund_no")
);
CREATE INDEX IF NOT EXISTS "idx_payments_di_departm_535302" ON "payments_discrepancy" ("department_code");
COMMENT ON COLUMN "payments_discrepancy"."entry" IS '\"payment\" or \"refund\"';
COMMENT ON COLUMN "payments_discrepancy"."out_refund_no" IS 'the refund number of a refund line, \"\" for a payment line (part of the unique key)';
COMMENT ON COLUMN "payments_discrepancy"."department_code" IS 'the payee department, when the line names one of our orders; \"\" otherwise';
COMMENT ON TABLE "payments_discrepancy" IS 'One difference between a channel''s daily bill and our ledger.';
        CREATE TABLE IF NOT EXISTS "payments_fee_order" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "notice_number" VARCHAR(32) NOT NULL UNIQUE,
    "reference" VARCHAR(64) NOT NULL,
    "open_reference" VARCHAR(64) UNIQUE,
    "title" VARCHAR(128) NOT NULL,
    "lines" JSONB NOT NULL,
    "amount_fen" BIGINT NOT NULL,
    "payee_department_code" VARCHAR(64) NOT NULL,
    "payee_department_name" VARCHAR(100) NOT NULL,
    "payer_user_id" INT,
    "payer_company_id" INT,
    "payer_name" VARCHAR(100) NOT NULL,
    "receipt_title" VARCHAR(100) NOT NULL,
    "receipt_tax_number" VARCHAR(20) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "due_on" DATE NOT NULL,
    "opened_at" TIMESTAMPTZ NOT NULL,
    "paid_at" TIMESTAMPTZ,
    "ended_at" TIMESTAMPTZ,
    "payment_id" BIGINT,
    "reminded_on" DATE,
    "revision" INT NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_payments_fe_referen_5bf77a" ON "payments_fee_order" ("reference");
CREATE INDEX IF NOT EXISTS "idx_payments_fe_payee_d_a4f322" ON "payments_fee_order" ("payee_department_code");
CREATE INDEX IF NOT EXISTS "idx_payments_fe_status_449bc9" ON "payments_fee_order" ("status");
CREATE INDEX IF NOT EXISTS "idx_payments_fe_status_09dfeb" ON "payments_fee_order" ("status", "due_on");
COMMENT ON COLUMN "payments_fee_order"."notice_number" IS '缴款通知书编号, unique in the deployment';
COMMENT ON COLUMN "payments_fee_order"."reference" IS 'what the fee is for, in the orchestrating context''s terms: \"case:<id>\"';
COMMENT ON COLUMN "payments_fee_order"."open_reference" IS 'equal to ``reference`` while the order is open, null after: at most one open order per';
COMMENT ON COLUMN "payments_fee_order"."lines" IS '[{\"name\", \"unit_fen\", \"quantity\", \"unit\", \"amount_fen\"}]';
COMMENT ON COLUMN "payments_fee_order"."payer_user_id" IS 'who may pay: the applicant person, or a company (its representative and agents who hold';
COMMENT ON COLUMN "payments_fee_order"."payer_name" IS 'the payer''s name for the receipt (a company''s title, a person''s name)';
COMMENT ON COLUMN "payments_fee_order"."receipt_title" IS 'what the payer asked to appear on the receipt (a company title and tax number)';
COMMENT ON COLUMN "payments_fee_order"."payment_id" IS 'the payment that paid it';
COMMENT ON COLUMN "payments_fee_order"."reminded_on" IS 'the last reminder sent (one a day at most)';
COMMENT ON TABLE "payments_fee_order" IS 'One fee to collect (缴款通知书).';
        CREATE TABLE IF NOT EXISTS "payments_channel_order" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "channel" VARCHAR(16) NOT NULL,
    "mode" VARCHAR(8) NOT NULL,
    "out_trade_no" VARCHAR(32) NOT NULL UNIQUE,
    "amount_fen" BIGINT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "client" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "returned_at" TIMESTAMPTZ,
    "checked_at" TIMESTAMPTZ,
    "ended_at" TIMESTAMPTZ,
    "order_id" BIGINT NOT NULL REFERENCES "payments_fee_order" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_payments_ch_status_b72d36" ON "payments_channel_order" ("status");
CREATE INDEX IF NOT EXISTS "idx_payments_ch_order_i_571c08" ON "payments_channel_order" ("order_id", "channel");
COMMENT ON COLUMN "payments_channel_order"."client" IS 'what the payer''s client needs, kept so that a retried tap gets the same payment sheet';
COMMENT ON COLUMN "payments_channel_order"."returned_at" IS 'the payer''s client said the sheet closed (paid or not): query soon after';
COMMENT ON TABLE "payments_channel_order" IS 'One attempt to pay a fee order through one channel (its ``out_trade_no`` at the channel).';
        CREATE TABLE IF NOT EXISTS "payments_payment" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "channel" VARCHAR(16) NOT NULL,
    "transaction_id" VARCHAR(64) NOT NULL,
    "amount_fen" BIGINT NOT NULL,
    "paid_at" TIMESTAMPTZ NOT NULL,
    "recorded_at" TIMESTAMPTZ NOT NULL,
    "disposition" VARCHAR(16) NOT NULL,
    "disposition_reason" VARCHAR(200) NOT NULL,
    "refunded_fen" BIGINT NOT NULL,
    "receipt_number" VARCHAR(32) NOT NULL UNIQUE,
    "verification_code" VARCHAR(16) NOT NULL,
    "fiscal_receipt" VARCHAR(64),
    "attempt_id" BIGINT NOT NULL REFERENCES "payments_channel_order" ("id") ON DELETE RESTRICT,
    "order_id" BIGINT NOT NULL REFERENCES "payments_fee_order" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_payments_pa_channel_c6c3a7" UNIQUE ("channel", "transaction_id")
);
CREATE INDEX IF NOT EXISTS "idx_payments_pa_order_i_858655" ON "payments_payment" ("order_id");
CREATE INDEX IF NOT EXISTS "idx_payments_pa_attempt_2e2875" ON "payments_payment" ("attempt_id");
COMMENT ON COLUMN "payments_payment"."disposition_reason" IS 'why a surplus payment is refunded, in Chinese, shown to the payer';
COMMENT ON COLUMN "payments_payment"."verification_code" IS 'printed on the receipt and checked by the public verification endpoint';
COMMENT ON COLUMN "payments_payment"."fiscal_receipt" IS 'an electronic fiscal receipt number, where the channel issues one';
COMMENT ON TABLE "payments_payment" IS 'Money received at a channel, recorded once per channel transaction.';
        CREATE TABLE IF NOT EXISTS "payments_refund" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "order_id" BIGINT NOT NULL,
    "out_refund_no" VARCHAR(32) NOT NULL UNIQUE,
    "amount_fen" BIGINT NOT NULL,
    "reason" VARCHAR(200) NOT NULL,
    "requested_by" VARCHAR(32) NOT NULL,
    "request_key" VARCHAR(100) UNIQUE,
    "status" VARCHAR(16) NOT NULL,
    "refund_id" VARCHAR(64),
    "channel_state" VARCHAR(32) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "settled_at" TIMESTAMPTZ,
    "checked_at" TIMESTAMPTZ,
    "escalated_at" TIMESTAMPTZ,
    "payment_id" BIGINT NOT NULL REFERENCES "payments_payment" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_payments_re_order_i_2a3947" ON "payments_refund" ("order_id");
CREATE INDEX IF NOT EXISTS "idx_payments_re_status_3b1e43" ON "payments_refund" ("status");
CREATE INDEX IF NOT EXISTS "idx_payments_re_payment_8d8be8" ON "payments_refund" ("payment_id");
COMMENT ON COLUMN "payments_refund"."requested_by" IS '\"s:<staff id>\" for a refund finance staff asked for, \"system\" for an automatic one';
COMMENT ON COLUMN "payments_refund"."request_key" IS 'the Idempotency-Key of the request that asked for it (a retried tap is the same refund)';
COMMENT ON COLUMN "payments_refund"."escalated_at" IS 'raised to the department''s finance staff: processing for too long, or failed';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "payments_fee_order";
        DROP TABLE IF EXISTS "payments_payment";
        DROP TABLE IF EXISTS "payments_channel_order";
        DROP TABLE IF EXISTS "payments_discrepancy";
        DROP TABLE IF EXISTS "payments_refund";"""


MODELS_STATE = (
    "eJztfet32ziS77+Coy+d3KNkbTl20k7fPsdJp2ezncR9E/fMnI36SDAJSVxTJIcgrWh78r"
    "9fFPgQH6BE0KQE0fiSWCQKJKvwqPrVA38Nlq5JbPr8LbaJY2L/+p74vmWSwSX6a+DgJfxR"
    "2WaIBtjzNi3gQoBvbU5kuD6ZGDHJxM3S3NLAx0bAWs2wTQm7ZBJq+JYXWK4DtFcOwubSci"
    "xoGLj+DxSx7nxiQAPkzlCwIGjl+neWM39m4jVKnoNmro9chyATB+QSYbRwbQsaMAJ4tOka"
    "rEtG1dlTxo6HjTs8ZzddQpHjBujOcVdoTYIhYmQYLfEdeRZ6Sc8ICJ+Mw1fGydk4fDE7PW"
    "X/khM8Dl+eEfPpc3jt0LH+FZJJ4M4Je4TPXv7rn+yy5ZjkG6HJT+9uMrOIbeZkZ5nQAb8+"
    "CdYev/beCX7lDYEjtxPDtcOls2nsrYOF66StLSeAq3PiEMYmAt0HfghSc0LbjsWdCDJ600"
    "2T6BUzNCaZ4dAG2QN19AKba4PJ5NP1zeTLu5vJZFAaFwlFRojxJcN1QIjsVSn/+jm8wrPR"
    "6YuXL16dXbx4xZrw10yvvPwePXrDmIiQs+fTzeA7v48DHLXgPN4wlYmszNVfGHPEbI2bF/"
    "gKgyewluQ5/FHkcMJPZVm8hX+/XN284wzMjEI6geEu5Nsb17UJdipGZI6wwMFbRtmEccmF"
    "Dec269BhWffm+voD9Lyk9F82v/D+Bn67bL2MltVPf3x88+7zk9OncJk1sgKSHbMblrOVh5"
    "SZ/XaBfTGnk/YFHrMX74rFg0FX03+Jv03YUj0PFuzn6cnJFo7//erz2/+8Ygw9OXla4HR8"
    "axTdy3PX8AlwY3IrGNDVPM5T9Y7TFy9qMPriRSWf4ZaYzTgQr7ewfm5ndUS5bemFP45wFR"
    "mwDzSvHXsdL/xbWH/z/uO7LzdXH3/PLS2wTMOdEb+6Llx9clEQU9oJ+sf7m/9E8BP99/Wn"
    "d5y9Lg3mPn/ipt3Nfw/gnXAYuBOmAU2wmdmjkqsJ176DAjO7y+y2cOGWqVIr7JuT0h135F"
    "a1Ld9ajpbFK9hhKpoZMxdeM9Zxr8Pg1v327p44gUgFzt7erf26vPWEpM3rKL68NVr5VhAQ"
    "B1kO10Ipew3GOuxQHGmnmPLrxgI7TNUMFjhg2mlIiYms4LlI022h27Ezdv7BNmPiM0XZxt"
    "YSeUwdBhXWd1cUrRYuJWg6xffY4pOGzb3pFC0wqNXsOU+m01+vP6M/fochhr789v539OH6"
    "7W/vfmGNXNb179Eg+vL/PjwdgkZtwqssUegEls26tV3jjs1n/nM6HSLsmIix3WKGRdQwcO"
    "Ej/TV7omPa7GqswQeuZxns5adTk+nsk/guZU9lqr7rm9EnJ5ejj8Y2zK41oqFhEGISc4io"
    "y3R3nwTsAXgWENDkPewHFrbHzox9ceiTSL83fEwXyIF3QX7oULAP4jcKVpZBuPWQcp/L5T"
    "m64l3CVRtTeL7trog5djAT19IL+J1IhBZlzDDZ27EPiHiDC3YMe0vPxmuaDIXd1sNXtvng"
    "IORDOCu+wZ9SdsUba/5YTIsfR6Ozs5ejk7OLV+cvXr48f3WS2hjlW9uMjTfv/wa6W26p3W"
    "2A8DEto3mkBF0pHXuVQcdah4fXtosFA/y/vlx/EvM3Q1LUNSwjQP9GNpudR6hlbGEtMCOn"
    "UCQsffLx6p9Fbr/9cP2mqClAB28KrN+sQ3VH9oZib0N7EO97e7JfLuqYL0V1LWO9XBTHd7"
    "ypCNhcuXxnSXYv4m0N7JNuF/EH4kMZhmb3TElDpUirTRXVTRVtoD52qcd2RyO5F2lbkHz8"
    "yqoI/kgEnfBkq6TBGpsQ33f9spxvyLeK3TJP1QOcb5tI3/3zZrsamEr0w/WnvyXNi7phfk"
    "ONjX05dDVH1AOmd23mZBEV2VWsSKtXMZVXsRzwJWPWlgj3b9wOfpqFToRO3oaWHVgOfQ7P"
    "+/kAa10nJi9geY30CKxVCFUnnyLejF8IQNTLCmdG5u5wqy8DB9h250zKufa7nBnVwtbhLG"
    "qFsxiuKRUqkLRvR8c6LGs71rH4/xKsTdrvT309Yuba5J4INNctFkJC0EP2tg8Ts9WerfUT"
    "2dWhQNaI1YqpI10PZJ/M2RtJc7pA1sNBXWdMVw/psuPDNJliJ+VeypD0DlIY1YqMG22JjB"
    "uVI+MWbiiyMas5nBJo/tbhr8d4JLceJwS94+/ZqAZ7z0aV3IVbOt5Qu3NCz2wo9Tyllroq"
    "UhcAM/ztFcFl3gdkORAgMvz6sA4WYyUt64SUQuMfKLJMppdbwZqHTvIARIJ9Y4E83/2fTd"
    "KTFVBkhD7o8MgLb22LLoiJ7olPWQNhaGnL3Wt0SKNDqrD20aNDx5yjc8c+TIa7SfvecfdF"
    "Hea+qObtixJrcWhaxDGkBm+Wpncsbh99415X9gKTpeT6WyLsHbPbt/tmhExmxCmzeVtKQ4"
    "aoNyGxe8lryIAZvru0KDOgbGtpBRMTr2WCkiuoeyOM1uKTyTcPQMxJHHsom4QtIt9jKnZ6"
    "5WhzsW2I1di4z6WB/ir63q3sXfgI86yTVbmr6DXrd7K+MGClnAIiWnVZPogSTzcvjQLMa7"
    "vA7yFk1Y4HQ/iOU/7vaDgeQD4plJD58P63d2hm2ZD+OWPvRIUJvB30v30w1LLHLrbYYxdl"
    "ewyydIn8UCiQKT8K+PuKhVIl2F0k+5dVhN1NAvJNgIlXB74XyBSWFeRX+88MTAmCbx6iO7"
    "JeQTb4EM3YuyDPctaWw7FMy7EgzRvuuH40oaLvLIuztV4PHH+fIrOTGJmdSEGrVeSNNPP9"
    "xIIMLDMpGLCBpadTQOT/Hn3DdPoacv5tJhQUfSqfsRjkR6y5A7JGt26wQCtIvl+5YcyZ7A"
    "Dp5CljB2qKRcUOVi7izgK2zi89l1KL/Q2lESL/JBR+YMOR+MJlpWWrw6KT9CMlLY4iaWfW"
    "RglNPn5jQ/uwqzXe4/Rmah/2Y5R6Cz7szfCI92GB4v0mpvz1t8/Expy35WGQ8U/H+9QRjo"
    "PvychPrmY52qWrP2FZhcc/w9F6jv9Eq+IUraZhfB0kgQVOuLxl1/7UrvcDut5jIdRn7IZg"
    "fyC48vw9tuoypo9nwbG6LeehJcK2q1NMUwJdN+kBSaS6HuleIG1tW1Wz/ji1bG1bPUapV9"
    "lWYgxUXu5FWp2hr46gy/PbZzJoVswpT6mlrLKUueUsZ6ZuKLQ5FZtTJfQpz+Ayd3+N/Ba/"
    "kTVn8nv2RlgcBVpIgjgy5lahS+yyj1cpYpIdVOzb2ReTCMj/zAb45/dvGY8Pk5NyAz7ogQ"
    "Ciim4M64BTQdpUFwc5pkk93IJB6fSPR5z+sTfmdpDKy1gxd0WxrlvGboamh0xuH+3LvpYE"
    "nwtkvQOeWkv8VyRf9a279LCzFmkHya2t+gHTyxdM/JuWWj3oi3oQUkPqIIqkfe/Ug9NXdR"
    "bXV9WL6yutHuw3P/Se+BbrrgnuUyDtIbDbJ+RHe22qp9lx4vd1vDY2mWN74hNPDvQrknWF"
    "/B2bErAF+EtZ1gL69wclR3giVV3wrzi4pBHATAo+45DoCB+ZeL5Yeb+ak6PEsw8S0JfjWb"
    "VBlPK0nlU0wfP6h0Qij/gUTms0AkgCm0XHDkYdwVHiL4kxG4fnox8JHCV+i58O0coKFoga"
    "LpvXr5FP7l2DDw3IIyMUkdmMGAHCAXLZ5BQU+dnHE7Vlp5ZlF8muzNjqUK4NhT4mIKcktR"
    "HhZTn3VhDlQU4WmC5kLEMRbSt1eRWyv9uH52OukW+exeTSwHoQdqCDBFQ2FbFhEK+ZrVgg"
    "1XJWWc6gkNw1DPnJUmopqyxlDfxUb579BX4Sk0rKKsgTadCnnDwTUuLL8TRD0VHm/7Hxcw"
    "uIlnGPPhBCy7hkj2vE1kXR8nM1h6G9vfry9uqXd4PSyN0fNKnWqK3L08xcVSos8VdskL9z"
    "b1uEHw0EkFupzXAn7DZjJJP7Is1O6O3aIegfhBnaAYIenmV7QPEZ6UNESRDYxEQu217R7R"
    "q5oY/clcOu+4zgGbVMgtjY8NdlpK2LB2hgTS1gzQ2DCSX/YvqLDIaTp+pd+ET78A2fOmIt"
    "sJrLOaLeMfl0VCtIZbQlSmVUClNRMalagA97xDGBU/thdOuRlvHA9InAlK1ckfNEClffOp"
    "hRoxGCalb3FyGYWU7TzM4Cqcb/VMb/9g9ZKGZRd4xZ7NewVoy3D7WsU6jiMIb1R+zAIjUQ"
    "2NPJreFOM3qZaVkjbmWGlxazWGMqCBx5QW5H4/D8zLiFv8lZFETy9BJNpzwiZjplrdeIvQ"
    "ajg7CT6dRjUjEsD9vTqShSpZNnaBNaLROaJ9FWVJKujk/JUx1vjAr/EMQ/hBd9Tca64UJh"
    "uNcIQKI1+r8oKi4NjcsTpVkXB46BYSYcnYhSzUBnE8s8Q7JNVztC/XwL80H5KrOukb6bpd"
    "PKrsrKbiQpuQJgWZr+HdTePgqj4YJq1vcXLuBaopwdmSXRhqTo4K9YwZY8WKBAplm700ZP"
    "WaYN9R2GenFwVfjBSyuDZuwOxmYXQ6WCC37nWS3YZls3vjIMQqN5VYBDBK2GO5ERLyaacB"
    "sWb8h2wiTvuMnFj4uBLRXOC8Eo6S4+ZZt9nw+OfzauZrM41wbMOEYAaTrszzWa43tyyUgB"
    "f/qBlgzAbh4zdiAO4cl0yiUwnaLp1DInUVlq9us/AFth459Mp0+HyPX5EVUr3woC4sDZJB"
    "jB2Tk/UIBhlpluxg77k12aToesB2jDhhPrDw7Sie5M4pZDRJ7Pn8Nj+KfQ5yfPMy/wmt2I"
    "8ThGbXHb1xk7/DyWOMPJoSs2BeHUFICC4A4AQ3EIxiU/vzy+4AT8E/LJUJwAxjtaLdyxM7"
    "MgTsMKUNwXTwBk/IMDFVkj1uk9eaohJgUhJj7m5bSTLInWTFSIIO05Q2cJ0+ra+ylBD2uE"
    "dFFCjO8zZQZvOxU6Q9SfoOc9Hwu92dClBneOqndFxTqpgRNpcjJc3lD0cA1prXBbnsfsS6"
    "kYQNrG5yxV70azPptBY7NNsdkS2nUY9OAzmbHvWNy4d0SYlpC7P9yJGPhRc2YBJu1rpSPE"
    "ZIiTRVY8JRSOB4tDIV5HxrkZtwggt4BZq4QiYAOK8lkjL3BEIM5K6Og52uxVy+zlwpMuMJ"
    "Gn6l3cfPubVTQDpLTblGJvJ5EdselGw9v/IYZAE9iSlbAh0RzezWEcmhaJnRp1WZyl6aH1"
    "0H68QfPaM60XnVGN9Ueiw9aNU290uhjVoVlHIV9dbeYxSFkDENX7pAYgOgAgvoC/cSBAHq"
    "Ibw52QA03b1Uje4I3RkoAnHex/cN2bxMN+sCTgCo8HMcQLYAdhcwmZcqzXwPVFeRoP7U4D"
    "B2oBB+CqlT2xIEujQYOdoIE+EKJD5m7WnonskWcC0v4hCO1z3HdtufytlOB4U7faUIw7Sa"
    "2Cyt73glH/xmVMx04FnpMSFSRyy6i6EkUyBfbL9DfX1x9yTH/zvhDG8OmPj2/efX5yyiXA"
    "GllBRXSD6xFHzhe8odBVm3etKrfss5pVyS5TKsvtwR1ZM90Y3hN0Z/CpMf35GViHSfkw+B"
    "qo1Q8fNOSBsqsFBNkGTPN2PYpWrn/H7pdV83a7Ppj0m0OnVX1o9OUY0Be5BMg8lY6y0VE2"
    "D2B9v0CunIPCMxtKPU+ppa6K1AVranp0kgLQJk+IEyCbSaLcDmAzKUxUB9c0rMD6X+Jccg"
    "Qy1nAihTvSfyyKAHt85vnu3MeCUhrNutD4pVr45d6tMsXY27HewL7SleRvhqSj2hR9YnAc"
    "jDlh5tuEOFJnMgtI1dWEB2CRxmtsEoDKXnyI2Jv7aziAB5I0kQOVi5BN8H0ccxrVxi6v3g"
    "/v7hAZBdiGv9lj7okgsf/LEtt25Y5Qpu4qt64s7ZNud4ez0cuLdGOAH9v2hC8frz58KMNz"
    "wJ6JrKslR6Tu5FFmtUpzsmXXqhJh/8oWdbJkbPgmfXhgiVJZWFSZ4c1rHMgO7RyRHta1hn"
    "XEM9khnafSymUNWN1nVnVSKLGM/1QB6VmqB5ZfVGxsb+GwoPoiJd/kFPJvvdQjTuvEx1eH"
    "x5fV4DmYLbLhGgWy3nG5ThZCdRJCKQfBPo0PSmqE/5aptRtNHci3jPTbowdJu0Stpa2ytL"
    "U3r3pNPU6/jvbmPUapt+DNy6pVcXU6AmEwUNbOEsVpvom7+fW3z8ROz1Dcw5Gkh1jtSzUu"
    "88GT7KOMtph0ldQUPcptcTujSsduPpBlopM/+zjA4uMZ6GRBRDWxZFiWOdyl15yaW/dEUN"
    "jqkbOq83S0z2z/HFSlpPGbw23RGzRge+OcRJlpEz9pX7NoLg9SxYXUMo+JzuQ5ZEnZVqgv"
    "a9mk7Ats3IsO5lArmCP0bBebkhXXckT9S+DpoMiKLpHbdkVXXStQRzFrC7h/qfp/8L1FpB"
    "jFd2ppReGm7S6NqFreu3WVrwN3xcbsJFN9Oz06jwuVjWbfwnZ0gRF/HcTl72u0llKEtkUl"
    "tLfUKRSK0NYmvSXOtSjamjt3iU7h48QHq4VLCVfPIXjPopfp2Rb8yIbNcQ1P4AAIOBSCzy"
    "yeCJQeDBGd4/C0bCa03nvXh5znJmdNeeeJFBb2wXS1jFTlzYwD5Jwd3SKWCfMJfaYLSHn5"
    "MySaxTVYnNuza+/CWaL+hay1b3jklSEJTpcINbdrmHlVB3g8rtM7WjxvhglLMjI+S9PDhb"
    "iTqFbDxtaSe1+dAKoKcYZJ8LyKvof87+RUlIR/1PpfUUmcbaf/FCj3l1nT/TKy50OAQMzy"
    "AshSaeY3Zr7lMPuPvRbkBEophAW6/gE0tdabsy3rzVl5vaEBDkJBKMSWCPGUYm+OqoFHeN"
    "mf/WD+7ddSd3l5f9kBnafqXapIJ8M5WITLWwdbtiyzS4T9M3I6YXhjPbEN/VBpdneiHspr"
    "JQ/SSFRj8EEUErrAo/MLqS0ypejfsG4fKllZZiDIoawc0Wn7Hg3p1nCSBbHmC0FoQSU3Nw"
    "SanWV2enguiq2u5GbaXjNTFGHEFVr5pMkcmV5S+xZktFcbpF8xRkVfu00air1Aq3Mn1Umn"
    "KksaBwE2Fo0EXSDVclZZziZpOp/zlFrKqklZkdjQK8MgXoAdg7x1QycQFz4tNxpuixgFPz"
    "ad4JSIjcoN1c5smpsFQTamAdp0gCjEmMMfpbOa2M/oChYcHf2wrgSxql8HguNWWPsoslRn"
    "3Bwo4+Y4js/plX0Bg164I1WwGYsgddkyTKoxWa4OE6xEcTU7iTWgQNWbapkPWgwU2Tzfso"
    "1OtF/y6zW2SCNp121CRZo1mkuqMIXJE/FVHh8uam4z43kiWDQ3PuGkZcZL7LtLC44LNtmb"
    "su8p3MYOXbHnJDelts5tfo+e7Z578XlU77EHCtHd05LPKzGTb2wOIi+8tS3KDGQEb4/uic"
    "/rMkMDmK9ohaPcaxOF7BX86Awiw/Uswq67Pj8JjopLPbf9gH3XzQVpxq8rF9kqoOxTfFRr"
    "+Djnk2yQa45I5Ummkhu9ah+ry/Qq+h7yv/PjTqWCz0S0KjN9QHhdjwzMEGA4oA7Bb7a2Uz"
    "QeDOFLTvm/o+F4UN48GvaxXay1ptXFlml1UZ5WQlWz5iYhpFXYixqnYvI9u14qZukLo4RM"
    "eHRlpmeb3etUz2NUCkq2WN35VKRTmLkw2GOll411fqKn4wZRqnIyqi8zQ55/WzQLZnhp2e"
    "ukVhJXmdnVuBSXcFZ19qCOB0L8KLlRkCdSeAgcbn6ly6ZpUc8WAZvV6oiQWN0iOGw40Duo"
    "JZa8NgIucLMSpgA3TQ0UYTMIQpnQk/FgHJ7PRif/Zxy+ICc/jgfoP9LZAcSCnaurhxwg2l"
    "bB5AjBKDB9PAskh0LTnMM61sCo2hoYlawBn9xbNK6FWHNRy5Ioi4hDPpJPlryWLbpdo0iJ"
    "Z4x1qAVNXiObBBSUOjgRBNGFu2J6vLHAzpwRUAuclGs3RLbrstkkMgu6eEDXWbyuv4RTOX"
    "BZ2v/15fpTRRpvlqjoQ7KMAP2bg2KdTa+fZqFjAEfRbWjZgeXQ5/DYn7uacVs4CkyCntOw"
    "hmRmPfl49c/ipHv74foNZ1kmXgE6eFMUCiGTmbBg6RZ4PUOk7BRUEmPPaB6bEIkqv+AWzU"
    "NErE/Hyu82gsBY1/cJn8wT32VKvJSpWibtzdBvEQVIucR0oblkTliZVmFlejzwfDIBZYSs"
    "mMrK9NvxIPl1CcalD7V82cIb3i6t6HhPnwSh71AUuOXt/OHd7TmrFbOXmDskqZgsh06IaB"
    "U2T0E2zyJpXEa+Opv4dwjghLjuAgAKT1zeHttPOUbHYYX4Q6PTuAmv5owCZiGVB0A3j+h4"
    "vpvEqFDft4H4RpX+rtD8buqvan2eJeyCmuRUeG7BDflWMc9EtD1g+bbw33f/vNmuIqfRvx"
    "+uP/0taV7UmwtLXS5IpcT/6si3EuFRHEU4wH5gMXagsxGgoZkdB9DS6JsiozNYWBStXJ/7"
    "o0y8RjzYl4JTKtJQiVle6Frv/WEHJAJkE7j+uoF4RbRHIeGOghyLsV4SrBSQPmpO4hCYIc"
    "nDLNFRcI8HRsHMjhQe17hDNHA9j83/JxtzgCIzBN6iSD0asjWDMiUH1gz69DV/LNOToCiu"
    "HzoOaygOwOroOW3IOV7kJuwV5dKNhdTaLC2ZpUeVELtfh1p/M2L1aYN9k7ogoa50DhdXKI"
    "Nmci/S6sxJdQRdnt+JEdAkDzpPquV8FHKWNL7zZEehEHdkTgAOZDbMJM9S6nmi8jxhhg1t"
    "puRmCbWMVZOxRMLjZjCQewKfXxoJUucCY0re3dc7FFg1Dfd7Msi3ndmasf0fyKm0o09uYB"
    "nHaBLUYhj4lR7Iqs8cXLlhHfWVSTT0iB/FqLF5DMPhgSz7sumwf8NLKkc7u75hO0z5Jubt"
    "tUNuXPbPbg6/y/V2lNubmLOSCe3Ral+R1Z5uBbtS20nacGfBFyYdZFtO6r0GDQN+X5YCGn"
    "kmbHSRTSp4IIKEWrjB82TKoG/LfdfJts+c4gKp8DqdXcl0dmyI141t8XYV64dS6YYNYxba"
    "P9KLscuVjGeMCTR7a7DXd225Eqpx+x4yt/14m5nvLifyqR8Fsh5E2XSd+sGsXHk254g0k3"
    "cy2XCXy1gZqxs0liHpAYP3HStmkgBbtmBMV2e4ZEh0fst2gTTIb2lSJLclHFS5rfM4vb61"
    "ql9XHbi59cy8B565qZx892ZdlSDpvCTKYvjV9Yk1d34jay6K9+y9IXtpO/Z8hCKoAmPYZR"
    "+vUiQgO/TYt0f1mrnmc/Xl7dUv7wbfD1TUsIhji6AgAda9s9hhSlMPFuKZ4Cfj8OJ2dMr+"
    "PRm9HIfnL17gcfjyJTmPEyTiovV8ewSMx/Nd9tAlTar78jwtQaZNu30LKwUnkyBKFXtQgW"
    "ANC+0LFpJNCTxAHmD3Mmgt5lI6/+8ASX9HDFNA4T8pKyMl2L+N0SAw/Otf48Ed6xOSH8fp"
    "GfTjwb/H0QePGc14AAXPoMXz58/hZ7xIx1e+/1la+lvr9cA2jUVpSMzJ7bpJ8qWYWK9hop"
    "KcEavkTcgcobYkj8mSZD259n0jqRdIdSSVapFUGjHQiIFqIjhyxCATOSPACvJxNbvjRnKt"
    "a6AE5z++NNm/JiHj8NWt8eIyX8zxBxoZ66xPZw6mO0Yzy4nqr8Mjo/LqPDkwLa/7AxRat2"
    "139Sz0RODBPh65O9REQwhKQgjyhVofWqJVteWsk6r4Sh490afCWMdxiFafOE4Npt+U+fxl"
    "iW27crFIifq0VJyNXl6kqwT82LZAfPl49eFDeZUI8FwKDEvaq+Fvh+f1xt+uI06qGd5JxE"
    "mkOk5CT2bVzhH1gOmdV7vjdYlkBvWGogfsPUzFrcYQdxW5wiUGD6Zgp7xqECiVJ9V4p9J4"
    "p66B8wi9GWqg3I8EGZJI1C5Dsrvw8CSZsWM0/KCi6gYLfxC+/T4gy19Cn6PSXwIcD6kCzF"
    "1uNNyNdnOQyoypeFYDrQd7/2NTEpMiyDvJHnEfuCip+srRZ4cfNAoIcxaFpvzgOIwWzPJ0"
    "5z5eDktIdydPGTt3rIuouCfhp8CwW5ZB0QI7pk38tIhxGNy6314jSvx7QqOTY5iiwcxz6D"
    "oKzoNnp6cvtYyYPxa4/IFapPonBvf8OINQBLRsOcMgFKIsukLkIF2iZFDEHJEaUGKT1J3B"
    "X+PBT5k6y/RniHX7KTpYBFZkvpb//L20RUjQHRiU1KUgq2fScRo/Aps3LXrRWAdvT23MVL"
    "kR6Iv5Gji7FMWoHPEkSJrXKqqRiy6gAfFgQkY98RMtPc9377H9HP2OfWzbxOYaHI2Oj4AI"
    "Bo/N4U0n4uoaXTykTpkNgc8xyXHfZAdDAY4h+io+bCRupit0qBlHAWNpwhkgod7kifrkIm"
    "0xKYOxiP+QUMtzRD1Mzjivc3boefXRoeelk0N1gY5OD8Q5hliVA7K8g2CV4zgJF9SKrjyg"
    "+ji1Hmx/rmc5wspf1W78DIn240v78bXTsXpsH6fdXcfpqMuNP4qAAiVcyweOEtb5UweWwJ"
    "GnT5VLOwvgQmH9512oYbkKdT3wEMqgXJyNw/PRjyQ6oDHqx/V/oMgkyyh9CQf5w2d3lOJt"
    "q9OG4KCuxass0qet+b1b87p6xJ4ia4/EpD++uJPMDkkoFdYZqrboMyS9WC72btMzpUdmmU"
    "7a9wA+ya/Mr2oszK8q1+VXpWgejZU8QqyEWRHslk3MecODDEvkGjXRqInaNrtGTQ4tgSNH"
    "TZiy4TjEvvZNjgGUS9Rm7w+3YSUeXoMBSSdGRDJxU5paYVY4CMjSCyAgnnUFxV4IQbwPFC"
    "x8N5wveJxT3Dt6YgUUTaduGExY5yZhy8R0imLcI270VBxr1dmT6mAq/DnxQIiJNaKiKKKS"
    "yEdGRd+Q9MIk6tpZv5REqpb9hadaNoKy65UMh4t0vcse6eCQriWkg0xmRHSC4pbVOk/XJ+"
    "RvLwu32lFVpQF+1EFVhm0JS9FUp/RsKI44n2eVeNKYokjAwxZ9FXIIMekQ8RRM6kYON4x8"
    "woRETBRgDzEVMMq2pIyDKFaOEV0QEpSU0s6ecugCRhqHewxADPnmWay7BmLOU2oxKy1mtu"
    "6EvtOwnHeO9Ghw1YFgUabYiqrO8lWWXXUpW4yfeHDZ9eHU46eXiL2Uv2ZrNsRczIIIBskt"
    "+W123OMxZyyIcddsB8lRHs2Ie5QrC3Gaxbhm6bSEVZZwFvWsbx9nqbR13Ja7JsXlH+iv+Z"
    "WQ1C1wZHKo67TJDsCc1+YzmxGf37+92ea22XA8cY0IRn9M+etvn4md1usX8/v3qJcesft7"
    "l56tXyz2rsRjY3g9EDi2sreHtfxaZoGiXvEAazYjPoFKT7ckWBHCg3AjJwEE7GLLXqNby7"
    "b5YQZu6CMegeBXVAl4SG/i4xU3/goT8++CU73gf/bNPr9QBITht09moWPCBX0iozJr/lC7"
    "sg6aTR3Nn7ICWxFzHTXfprceIZO3MBUU0QLLkrWm7pBM2uvxWGM8pgt4Xe6mBCqzdzBOdu"
    "TxAGCR8SDai8aD0o65teXjdcUqNezbz8nIqyeS3M4RqhtmzeHD6F3RpkgcTi7ZlkPgvFU2"
    "7mdQPCp1DMENQBT9ICkPGr0muiPrp0KMsouH7HlAsEc5FHNvoBCBqB4RZUp1h4RC88+n8q"
    "EQWaoe1dvYcxwEm2xWE+7n6TT/m/L/OFIwy5EpTbYf8F5l6xYO0WpBHL7e8x0AeBKd4Mh2"
    "AYAiOJhGX0dbhgsQxMqKIr6FnrGW+t7z6jdzQX+Qd2Vk6bQfXGlfhj7W+pHJ+VbKii6Q9U"
    "5jbD981nEDqa0yad871p6f1Kufua2AJq+gWfL+HSa5KPUQCvwvWe9hDefLjBDZhCLI6glc"
    "xMaNTYwAPRmHL2dnL8bhxe0ZGYc/npxiqKVCzsfhC3JxUZEr1KSTOmlAm/hjkzVlL61zgN"
    "R0nEQFfyYRACK5SuUJ1U2kGGwf1XD3lP17fjZ7OUzAHMtJjl633dQvXaxU1Eqne96NfBK7"
    "WOU2/QyRwoc2b0LNYWGzKEB3w4Ttrm8sCLA6gGMoGNsD8g3K0QfEX9JLZltBDuvlT5b5sw"
    "Bsb7PjfSNWHnEmjcRepmwk+6IS38kcJ/8KsQ172XSavvF0ygxryyaxlCAD1orOFBjyR0Qx"
    "ppeQ7Lpk2nVkcfMTB3hbTxDY2s1jxk7a2RARhw0ug5jJ4Vewdt+yEQQVzm6Z8Y9MC8NuTQ"
    "8BNluBXMHylKCHzp3TUR1HGmtV7dUclZxpAABJnVCeEqiRh9TkiPLB17/GnAHjAbhc2Dvw"
    "rMHoF5twDhtF68296K9NduF48P3P0kRtp8sDZxjpzMsDI94cqZ08APeu7EBhLUoZX1uJeb"
    "IHklR20MfdqBa6croFXTk9KZ1PwnN4JiGtiG6vXIBKdAo73Zhu76IlXoNb5jKqK+t5tmWw"
    "PQJ0M+oyNY5HAMBxothZRxVTfOKxhZuNKab13xMekIrngOUg6G7hxkzJ2xCdPGfsxD4lRA"
    "2mVj59XW2UIJ42RIeshQVdG0wDFaqRLRdfjIZD/F1NRlKeVOHBJLuftcziJgukfxSrYi6l"
    "EF6Yh+VEMTwGYc3Qk3TmgO0NdscQwnb4zIppxEFArfS6/7U5fsOJtE1WIlTX01CoHYAwvY"
    "PSAC4snQT7YBKLhRWJii+XAf4WB3iVxd9+9wccB+xJ8jiumFrdEdFQOxrVYfyomu+jEtt1"
    "UZbOMw4i11GJw1uSDlKKR513AEJvFMCRI9RxOkrHb0DhhAYizpDp+ByV5aurBvRdwnH0h3"
    "TdgDydwsZwYl3xvAle3otXe7HKzvRtDZUAgn2ytPjEklNICmQP1Er2KDUb0wDFb+8jwJ/Q"
    "E/BbYmRCTeHIkyk2p+uTPkjJgdPjqfCMzsqJkyXZn1PkpCv1uwUESSKSLuOVigpMP7DeQ7"
    "H09nGqkuWiD4IVXlfG2GdljIRdgqjMDCdrBGV6mdY7QzI/siVuHSFF98REvJRlXGJgGCPt"
    "7LILtS08tiwm1dczOXjlCM2W+txVGaOQB1gseZEp6s7ufE2m/0SfladsVKcuh9E5OHWcab"
    "dHHAygY2EOHgujAOCkmij6hEckGkWjzL8cqRa00oI2Lcq6tAKh9bwlhztP1sNdqwMf1oZn"
    "E59g2pjjGWp1nbOD1WLND+32PTukKaLHY42gqgoxedLE2wXELLNH0YW7csDfnrrgSzZQKz"
    "3ucA3X8w1vcw4LnPLR28nrK0XK3gBVe0dso8CG5iERx5DbpkyW8z3xrZllcChLOkpaSKzy"
    "/jLwGLMDDr7kIoQgICguzZ6k73jhrW0ZKPuJiDim51qCpML2ut3zPjezqIHtSfzCMrIvU7"
    "aSZNaR3DHjMiRf+a7DuB+9eyqmaMHg1Vx8kj0/ke1XNIxKupRE3kqP+7bFNxCg1N6Wp9O2"
    "eOPNTRec3zPzS44yXXC+m4LzgmWmBd721NlY5G9+fX1ASf/ICHmg3/Iz76RH7O7UbRlzS+"
    "C13PCxhtPS3zTe5bOs5kedEi+ZKCTtBlTTDaiultBXWahbp7nX4IP2DR4cbJOFtg8BZ+9t"
    "hHcEKbMvpUGDio15OpX5PRgP6OVPTJufzRCvlxQXX4+Lss8sB/R8FDWIsvV4JSZGtmafuE"
    "wIHAQOsCVTUA0h6NLdY/ZezosLd3JHmoyJhEzdsk4Aeb03mVHjBsQx1s+YyZeU3Y+/IT43"
    "OhESsnieZvYUaStzhnQkYXHgckfP2X9G6HGkJqbrkqSTURnfbqylyUV/5YgURrqVifuKAe"
    "8JDFEpp1KJUF2/uTKKtD7SvpL1fQoAoiQI7EZizlPq/EKVpaxPF38MUibgMG64aBdpj0bS"
    "AyZLGpVqiSsqxxXefqB56+0Seb5rEEqhChav7eO6yHadOa+1NcOWTcqFutruvMej74A5zK"
    "opCEo4ozM5aw90mfYv63BY8Jbmx6C0t7RLZ+AV8S1jMRA4A+M7w23OQLxp06UPUMrr91hc"
    "fg8s6FftzLsnvjjdfWtYZUW6u1Kgb1OQ/fy8Dsh+fl4NssO9gieJTSoJDsfNe8jdToBJXo"
    "ZUtDtVlzfPkOy/wPlhTJDWSolLVHdofzP7/v8B+4PAng=="
)
