from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "core_calendar_override" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "day" DATE NOT NULL UNIQUE,
    "is_workday" INT NOT NULL,
    "note" VARCHAR(100) NOT NULL,
    "created_by" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* An administrator's correction of the working-day calendar for one date: a holiday the */;
        CREATE TABLE IF NOT EXISTS "cases_acceptance_counter" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "department_code" VARCHAR(64) NOT NULL,
    "day" DATE NOT NULL,
    "last_number" INT NOT NULL,
    CONSTRAINT "uid_cases_accep_departm_be0416" UNIQUE ("department_code", "day")
) /* The last acceptance sequence of one department on one day. */;
        CREATE TABLE IF NOT EXISTS "cases_case" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "item_code" VARCHAR(64) NOT NULL /* the exact published item version the case was filed under, and copies for lists. */,
    "item_version_id" INT NOT NULL,
    "item_name" VARCHAR(100) NOT NULL,
    "lead_department_code" VARCHAR(64) NOT NULL,
    "department_codes" VARCHAR(600) NOT NULL /* every department taking part, as ",code1,code2,". */,
    "applicant_user_id" INT /* whose case it is: a person, or a company (then ``applicant_user_id`` is null). */,
    "company_id" INT,
    "agent_user_id" INT /* who filed it when not the applicant: a company agent or a family member under a mandate. */,
    "mandate_id" INT,
    "applicant_display" VARCHAR(100) NOT NULL /* masked applicant name for the public status page ("张*三" \/ company name). */,
    "status" VARCHAR(24) NOT NULL,
    "revision" INT NOT NULL /* incremented by every transition; lets a phone show "changed since you looked". */,
    "form_data" JSON NOT NULL,
    "fee_fen" BIGINT NOT NULL,
    "acceptance_number" VARCHAR(64) UNIQUE,
    "correction_round" INT NOT NULL,
    "correction_stage" VARCHAR(16) NOT NULL /* "pre_review" or "review": where a resubmission returns to. */,
    "assignee_staff_id" INT /* pre-review: the clerk who claimed it (optional), or the assignee of the open task. */,
    "decision" VARCHAR(16) NOT NULL,
    "decision_reasons" TEXT NOT NULL,
    "answer_due_on" DATE /* article 32: a submission not answered by this working day counts as accepted. */,
    "statutory_due_on" DATE,
    "promised_due_on" DATE,
    "paused_on" DATE /* the day the clock stopped (corrections during review, suspensions); null while running. */,
    "paused_working_days" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "submitted_at" TIMESTAMP,
    "accepted_at" TIMESTAMP,
    "accepted_on" DATE,
    "decided_at" TIMESTAMP,
    "closed_at" TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "idx_cases_case_applica_4b531a" ON "cases_case" ("applicant_user_id", "id");
CREATE INDEX IF NOT EXISTS "idx_cases_case_company_8957ef" ON "cases_case" ("company_id", "id");
CREATE INDEX IF NOT EXISTS "idx_cases_case_agent_u_016c0e" ON "cases_case" ("agent_user_id", "id");
CREATE INDEX IF NOT EXISTS "idx_cases_case_lead_de_076cb6" ON "cases_case" ("lead_department_code", "status", "id");
CREATE INDEX IF NOT EXISTS "idx_cases_case_status_086101" ON "cases_case" ("status", "promised_due_on");
CREATE INDEX IF NOT EXISTS "idx_cases_case_status_02b282" ON "cases_case" ("status", "answer_due_on");
        CREATE TABLE IF NOT EXISTS "cases_item_duration_stats" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "item_code" VARCHAR(64) NOT NULL UNIQUE,
    "count" INT NOT NULL,
    "histogram" JSON NOT NULL /* {"<working days>": <number of cases>} */,
    "updated_at" TIMESTAMP NOT NULL
) /* Working days from acceptance to decision of an item's finished cases, as a histogram, */;
        CREATE TABLE IF NOT EXISTS "cases_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "action" VARCHAR(32) NOT NULL,
    "actor" VARCHAR(32) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "from_status" VARCHAR(24) NOT NULL,
    "to_status" VARCHAR(24) NOT NULL,
    "comment" TEXT NOT NULL,
    "details" JSON NOT NULL,
    "at" TIMESTAMP NOT NULL,
    "case_id" BIGINT NOT NULL REFERENCES "cases_case" ("id") ON DELETE CASCADE
) /* One line of the timeline: every transition and every notable act on a case. */;
CREATE INDEX IF NOT EXISTS "idx_cases_event_case_id_6859c6" ON "cases_event" ("case_id", "id");
        CREATE TABLE IF NOT EXISTS "cases_correction" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "round" INT NOT NULL,
    "stage" VARCHAR(16) NOT NULL,
    "items" JSON NOT NULL /* [{"kind": "material"|"field", "code": ..., "problem": ...}] */,
    "issued_by_staff_id" INT NOT NULL,
    "issued_at" TIMESTAMP NOT NULL,
    "resolved_at" TIMESTAMP,
    "case_id" BIGINT NOT NULL REFERENCES "cases_case" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_cases_corre_case_id_e1f36b" UNIQUE ("case_id", "round")
) /* 一次性告知: the complete list of problems of one round. */;
        CREATE TABLE IF NOT EXISTS "cases_evaluation" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "user_id" INT NOT NULL,
    "item_code" VARCHAR(64) NOT NULL,
    "department_code" VARCHAR(64) NOT NULL,
    "score" SMALLINT NOT NULL,
    "tags" JSON NOT NULL,
    "comment" TEXT NOT NULL,
    "follow_up" VARCHAR(16) NOT NULL,
    "answer" TEXT NOT NULL,
    "answered_by_staff_id" INT,
    "answered_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "case_id" BIGINT NOT NULL UNIQUE REFERENCES "cases_case" ("id") ON DELETE CASCADE
) /* 好差评: the applicant's one rating of a finished case, and the department's follow-up. */;
CREATE INDEX IF NOT EXISTS "idx_cases_evalu_item_co_67cb1e" ON "cases_evaluation" ("item_code");
CREATE INDEX IF NOT EXISTS "idx_cases_evalu_departm_49d5e2" ON "cases_evaluation" ("department_code");
        CREATE TABLE IF NOT EXISTS "cases_review_task" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "step_index" INT NOT NULL,
    "step_name" VARCHAR(50) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "department_code" VARCHAR(64) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "assignee_staff_id" INT,
    "opinion" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "decided_at" TIMESTAMP,
    "case_id" BIGINT NOT NULL REFERENCES "cases_case" ("id") ON DELETE CASCADE
) /* One department's step of review or approval. Parallel items open one per department. */;
CREATE INDEX IF NOT EXISTS "idx_cases_revie_departm_521b51" ON "cases_review_task" ("department_code", "role", "status", "id");
CREATE INDEX IF NOT EXISTS "idx_cases_revie_assigne_0bf131" ON "cases_review_task" ("assignee_staff_id", "status");
        CREATE TABLE IF NOT EXISTS "cases_supervision_notice" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "department_code" VARCHAR(64) NOT NULL,
    "issued_by_staff_id" INT NOT NULL,
    "assignee_staff_id" INT,
    "message" TEXT NOT NULL,
    "card" VARCHAR(8) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "acknowledged_at" TIMESTAMP,
    "case_id" BIGINT NOT NULL REFERENCES "cases_case" ("id") ON DELETE CASCADE
) /* 督办: a supervisor's demand that the assignee act on a case. */;
CREATE INDEX IF NOT EXISTS "idx_cases_super_assigne_c0e25c" ON "cases_supervision_notice" ("assignee_staff_id");
CREATE INDEX IF NOT EXISTS "idx_cases_super_departm_3b772a" ON "cases_supervision_notice" ("department_code", "id");
        ALTER TABLE "core_outbox_event" ADD "dead_at" TIMESTAMP;
        ALTER TABLE "core_outbox_event" ADD "locked_by" VARCHAR(64) NOT NULL DEFAULT '';
        ALTER TABLE "core_outbox_event" ADD "locked_until" TIMESTAMP;
        ALTER TABLE "core_outbox_event" ADD "done_handlers" JSON NOT NULL DEFAULT '[]';
        CREATE INDEX "idx_core_outbox_status_3b10e8" ON "core_outbox_event" ("status", "available_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_core_outbox_status_3b10e8";
        ALTER TABLE "core_outbox_event" DROP COLUMN "dead_at";
        ALTER TABLE "core_outbox_event" DROP COLUMN "locked_by";
        ALTER TABLE "core_outbox_event" DROP COLUMN "locked_until";
        ALTER TABLE "core_outbox_event" DROP COLUMN "done_handlers";
        DROP TABLE IF EXISTS "cases_review_task";
        DROP TABLE IF EXISTS "cases_event";
        DROP TABLE IF EXISTS "cases_case";
        DROP TABLE IF EXISTS "cases_item_duration_stats";
        DROP TABLE IF EXISTS "core_calendar_override";
        DROP TABLE IF EXISTS "cases_evaluation";
        DROP TABLE IF EXISTS "cases_supervision_notice";
        DROP TABLE IF EXISTS "cases_acceptance_counter";
        DROP TABLE IF EXISTS "cases_correction";"""


MODELS_STATE = (
    "eJztXft32zay/ldw9EuTe5RcW3427e05duJ2vXm4N3a3PTfqoWESkrimSC5B2tF2879fDP"
    "gQH6BEyKRE0vglsUgMSH54zXyYGfw1mDsGsejrt9gitoG9qwfieaZBBm/QXwMbz+GP0jJD"
    "NMCuuywBF3x8Z3Eh3fGIpkcimpOWuaO+h3WflZpgixJ2ySBU90zXNx0bZM9shI25aZtQ0H"
    "e87yhi1XlEhwLImSB/RtCj492b9vSVgRcofg6aOB5ybIIM7JM3CKOZY5lQgAnAow1HZ1Uy"
    "qcaeMrZdrN/jKbvpEIpsx0f3tvOIFsQfIiaG0Rzfk1eBG9eMQPDFODjV9w7GweFkf5/9S/"
    "bwODg5IMbL1/DagW3+KyCa70wJe4THXv7Ln+yyaRvkK6HxT/dem5jEMjJtZxpQAb+u+QuX"
    "X7u0/Z95QUDkTtMdK5jby8Luwp85dlLatH24OiU2YTARqN73Amg1O7CsqLnjhgzfdFkkfM"
    "WUjEEmOLCg7UE6fIHltYGmfbq60a4vbjRtUOgXsUSqEaNLumNDI7JXpfzrp/AKr0b7hyeH"
    "pwfHh6esCH/N5MrJt/DRS2BCQQ7Pp5vBN34f+zgswTFegsqarIjqOwaOGNaoeA5X6Dy+OS"
    "ev4Y88wjGerYV4BX7vzm4uOICpXkg16O5C3M4dxyLYLumRGcEcgndMchPg4gtL5Jbz0G6h"
    "O7+6+gA1zyn9l8UvXN7Ab4fNl+G0+um3j+cXn1/sv4TLrJDpk3SfXULOZh5SBPvtDHtipO"
    "PyOYzZizcF8WDQ1PCf468am6qn/oz93N/bW4H4P84+v/3bGQN0b+9lDuno1ii8l0VX9wig"
    "od0JOnQ5xlmp3iF9fFgB6OPDUpzhlhhm7IvnW5g/V0MdSq6aeuGPDs4iA/aBxpVtLaKJfw"
    "X0N5cfL65vzj7+mplaYJqGOyN+dZG7+uI410xJJej3y5u/IfiJ/u/q0wWH16H+1ONPXJa7"
    "+b8BvBMOfEdjGpCGjdQaFV+NUfsGCszkPrXawoU7pko9Ys/QCneckVNWtnhrPprnr2CbqW"
    "hGBC68ZqTjXgX+nfP14oHYvkgFTt9er/06vLRGkuJVFF9eGj16pu8TG5k210Ipew0GHbYp"
    "DrVTTPl1fYZtpmr6M+wz7TSgxECm/1qk6dZQ7dge27+zxZh4TFG2sDlHLlOHQYX1nEeKHm"
    "cOJej2Fj9gkw8aNvZub9EMg1rNnvPi9vbnq8/ot1+hi6Hr95e/og9Xb99fvGOFHFb1r2En"
    "uv7fDy+HoFEb8CpzFNi+abFqLUe/Z+OZ/7y9HSJsG4jBbjLDIizoO/CR3oI90TYsdjXS4H"
    "3HNXX28re3BtPZteguZU9lqr7jGeEnx5fDj8YWjK4FooGuE2IQY4iow3R3j/jsAXjiE9Dk"
    "Xez5JrbG9oR9ceCRUL/XPUxnyIZ3QV5gU7APojfyH02dcOshQZ+3y2t0xquEqxam8HzLeS"
    "TG2Masueauz++ETWhSBobB3o59QIgNztkx7C1dCy9o3BXWWw9f2OKD/YB34XTzDf6UsivO"
    "zelzMS2+H40ODk5GewfHp0eHJydHp3uJjVG8tcrYOL/8BXS3zFS73gDhfVpG80gEmlI6tt"
    "oGDWsdLl5YDhZ08L9fX30S45sSyesapu6j/yCLjc4OahkroAUwMgpFDOmLj2d/5NF+++Hq"
    "PK8pQAXnOeiX81DVnr2U2FrXHkTr3pbsl+Mq5kteXUtZL8f5/h0tKgKYS6fvtMj6Sbyujr"
    "3X7CT+RH4oBWh6zZQ0VPKyylRpu6miDNTn3uqR3bFRu+dla2j56JXb0vAdaegYk5UtDdaY"
    "RjzP8YrtfEO+lqyWWake8HyrmvTij5vVamDSoh+uPv0SF8/rhtkFNTL25djVjFAPQG/azE"
    "kzKrKzWF5WzWJtnsUyxJeMWVsQ3L5xO/hxEtghO3kXmJZv2vQ1PO+nHcx1jZi8wOVtpEdg"
    "pUK0dfC1ZDfjHQGKel6ymZG6O1y5l4F9bDlT1sqZ8us2M8obW7mztMudRXcMKVeBuHw9Ot"
    "ZuoW1Yx+L/S0Abl9+e+tphcC3yQASa6woLIRboIbz108RstmdzvSY7O+TENoK6ZepI0x3Z"
    "I1P2RtJI58R62Kmr9OnyLl3c+DAMpthJbS+lRHpHKYwqecaNVnjGjYqecTMnENmY5QgnAg"
    "rfKvi6DCO5+TgW6B2+B6MK8B6MStGFW8rfUG3nBK6xYatnJVWrt6XVBcQMf/uW8DKXPpkP"
    "BIwMvz6swsWYcckqLqVQ+DuKTIPp5aa/4K6T3AGRYE+fIddz/rkMejJ9ivTAAx0eucGdZd"
    "IZMdAD8SgrIHQtrbl6xQ4pdqgt0D57dqjLMTr37MNk0I3L9w7dwyrgHpZje1iAFgeGSWxd"
    "qvOmZXoHcf3sG991ZS+gzSXn34Jg78Cu3+6bEKJNiF2EeVVIQ0qoNy6xW4lrSJEZnjM3KT"
    "OgLHNu+pqBFzJOySXSvWmM2vyTyVcXSEwt8j2UDcIWiW8xFDu50tlYbAt8NZbb59JEf5l8"
    "72b2JvYIs9DJqtxl8gr6tdDnOqzUpoBItr2QD8LA0+VLIx/z3C7wewhRtePBEL5jn/87Go"
    "4HEE8KKWQ+XL6/QBPTgvDPCXsnKgzgbaD+1Z2hkj12vMIeOy7aYxClS+S7Qk6s9b2Av6+4"
    "Ucoadp3I9tsq5O40n3wVcOLlju85sRa3FcRXe690TAmCbx6ie7J4hGjwIZqwd0GuaS9Mm3"
    "OZpm1CmDfccbxwQIXfWWzO2mrdsf99wsxqETOrSVGrZeIbaebb8QUZmEacMGBJS9/eAiP/"
    "j/Abbm9/gJh/izUKCj+Vj1gM7UfMqQ1tje4cf4YeIfj+0QkiZNIdpJGnjG3IKRYmO3h0EN"
    "8sYPP83HUoNdnfkBoh3J+ExA+sOxJPOK3UbHWYVEs+UtLiyIs2Zm0U2OTuGxtqD7tc4+3m"
    "bqbaw36OrV7DHvaye0TrsEDxPo8kf37/mViYY1vsBqn96Wid6mA/+Bb3/PhqGtEmt/pjyE"
    "p2/FOIVtv4j7UqLlFrGMaXQexYYAfzO3btT7X1vsOt96gRqgO7FNgeCd56fLuWXcbw8MTv"
    "6rblNDBF3HZ5iGkioPImPSGIVOUj3QqlrWyrcui7qWUr2+o5tnqZbSXmQOXbPS+rIvTb09"
    "DF8e2xNtgsmVNWUrVym1uZW85yZupSQplTkTlVYJ+yABfR/Tnct3hPFhzkS/ZGWOwFmguC"
    "6Bi4ZewSu+zhx4QxSXcq9u3si0lI5H9mHfzz5VuG8W5iUm5gD3ogoKjCG8Mq5JSfFFXJQb"
    "o0qIcrOCgV/vGMwz+2Bm4DobwMiqkj8nVd0XdTMj0EuX62L/1aEjjnxHpHPNUW+N+SeNW3"
    "ztzF9kKkHcS3VuoHTC+fseZfllTqQV/Ug4DqUgdRxOV7px7sn1aZXE/LJ9dTpR5sNz70gX"
    "gmq24T3icn2kNit0/Mj9q1KR9m3eTvq+zaWGSKLc0jrhzplxdTzN965i/BrAb67zdKurhe"
    "VaX/8t1LmgNMBeEziESH+Mh49EXq+9mUdLJf78SlL4NZuUmUYFrNLtLwtPoxkcglHoXzGn"
    "UfwsAm4cGDYUVwmPgJ0Sfj4Gj0PYHDxO/wyyF6NP0ZorrDBvYPyCMPjs67BkSSEYrIZEJ0"
    "H2EfOWx0CtL8bOOJyrZrl20Xtl0R2HJnrqWEOiggoybV4eNl2g+mH0ZCajNMZzK2oUi2ls"
    "y8LbLA6yfoI9TIV9dk7bKB/SCsQLkJtNlYxLpO3M2sxZyoauc2tzMoJPcbOv2kJVUrt7mV"
    "FfVTvnj2l/qJTSopqyArpGgfQfxMQIknB2pKosXB/23h0VJbpE9k0VLbsh3rs1WJtOxwzd"
    "Bob8+u3569uxgU+u726MmW9duqoKaGa6ucE3/GOvkH33MLOaSBgHYrlBmupd4mTER7yMus"
    "pd+ubIJ+J8zY9hHU8CpdA4pOSh8iSnzfIgZy2BKL7hbICTzkPNrsuscEXlHTIIh1Dm9RZN"
    "uaeIAi19pFrjmBr1HyL6bDyPA4WaneOVHUT+HwoSPWBMtRzgj1DuT9USVXldEKX5VRwVml"
    "jaHVAo7YJbYBSG0H6Nr9LaOO6RGBOVs6I2eFlBquUiYplgCqmJj2pvGdOVHFAbaZA9w+a9"
    "G6QdwsbbFd07pt4D7Vtk7Yit2Y1h+xDdPUQGBRx7eGaw3peapkBe+VCZ6bzGaNpMB95JDc"
    "jcbB0YF+B3+Tg9CV5OUbdHvL/WJub1npBWKvweTA+eT21mWtopsutm5vRf4qjTxDGdHtMq"
    "J5MG1JRulyL5WsVHc9VfiHIP4hPPlr3Nd1BxLE/YCAJlqg/0FhkmkoXBwom1WxY08YZsRR"
    "TRRyBlqbuM1TIqu0te6uPyLwQf0qQreRxpuWU+pum9XdsKXkEoGlZfp3YHv9PIwiDMqh7y"
    "9hwLVEOUsyLaJMSeEJYJGGLXnCQE5MYbveTE8wU7b6Ols9371KNsMLk4NCdh2y6QmxVS4G"
    "v/L4Fmyx5Ruf6Tqh4cjKUSKCUsO17IgbCWncjsVLsbVUyQU3u/jRMbCswtkhGMXVRSdus+"
    "/zYPufdazJJIq6AVOOCUDADvtzgab4QRDUU3vtih5pFz3CG01uYU2LNLWodg/ilm8mdBnQ"
    "SQxaVVs1Eehhnov602CF87QMvkuJHgJcW2amLMbsS6nYMlyFc1qqdzmwVPJ1RbpsSroUjN"
    "jdmASfyYR9x+zGuSdCj+PM/fVmgBcWZ+pxXL6Sp3EkhrhYqKNTZkDA7lG4xwkHBjIlw4hK"
    "+OA2rDtzQhHAgMJwtXB7JxQQOxw39BxlE7TLJuCNJx0/npXqnUts/YtVOAKk9NpEYmtHDX"
    "VYr6XB3T+JLtAEVjgcL0UUwusRxoFhkoiqrApxWqaH1kP9G4mbp5aoPadE26DviA5b1QV1"
    "o+ODqPK56ET7qmQSz6GVFQFRvk4qAqIBAuIaNmMGAuYhvDFcSznQpFwFr2xeGM0JHCEL9r"
    "9jE2QQF3v+nNj+EEWdGHYDsY2wMYcgGFar73giB+ynVqeIg3YRB7CPJZuSPC2jSIO1pIHK"
    "+N4guMu5R5M900gg2j8GoX7EPceSC8xIBLobk1GHYtxIzAQk7n0Q9Ppzh4GO7RI+JxHKtc"
    "gdk2qqKeIhsF3Qz6+uPmRAP7+8yUH928fzi88v9nkLsEJm6LhWdGlwXGLL7QUvJVRS1nWz"
    "yh37rM2S4BYlW4v24J4smG4M7wm6M+ypMf35FViHcWYg+BpIxQ0fNGQqtIEeZ8RGps80b8"
    "el6NHx7tn9ompeb9U7a/3NqdOyOhT70gX2RS6yKSulvGyUl80ToO8XyZXZoHCNDVs9K6la"
    "vS2tLphTk5NRWkBt8jAXAbMZh7+sITbjlCNVeE3d9M1/E/sNZyAjDSdUuEP9x6QIuMdXru"
    "dMPSyIkd+sCsVftou/3LpV1jJ4G9Yb2Fc6kvimRBoKOu8TwJEzpsbMN43YUoeuCkTbqwkP"
    "wCKN5tjYAZW9+BCxN/cWcL7GG7BEbUhJgiyCHyKf0zDtbXH2fnp1u4gowBb8zR7zQATxut"
    "dzbFmlK0JRenvh0XvNrg4Ho5PjZGGAH6vWhOuPZx8+FOk5gEeT3WrJCLV38LRmtjINzQ5g"
    "61d2rioI9i8fSSNTxhI36bPBCpKtpUVb071dhg+R7doZIdWtK3XrEDPZLp2VUsplBVrdY1"
    "Z1nAGtyP+UEelpqSfmVWtZ316BsCCtGiVf5RTyr73UI/ar+MeXu8cX1eApmC2y7ho5sd6h"
    "XCUKoTwIoRCDYO1HZ6BsxP8WpdU2Wnso3yLTb42e1NoFadXabW5ttZtXPqd2c19H7eY9x1"
    "avYTcvrVa57KnEhoYOj9EzRX6a51E1P7//TKzkeLTnct5g1nmSfZReF0hncabATi6Lq4Eq"
    "nKj3RMhEh/r1sYNFedepNiOibFgykKVObeg1UlPzgQgSWz1zqBoPR/vM1s9BWUgavzlc5b"
    "1BfbY2TkkYmaZ5cfmKmTC5kyrOhZa5rOkMHkPmuhabJ2z/O4omplWa8XKDWpQzR7ucOQLX"
    "crAhmXEtI9S/AJ4Gkqyo/KF1p7tUuQKVF7OygPsXqv8bX1tEilF0p5JWFCzLrtOIytu7Zl"
    "1lleNAfbNRi7wF6lpHV7iiPjJwNPlU0gW5hg7zrSOA7XHmUMIVaHCvM+mbJLf8EDke+xEy"
    "Twv0wofYstvbsO/zUJ3bWybAvfD4cQEvi4p87bU3fcJw+DpyzZ0Vam9b70yZSjWqvB2wg6"
    "Cwzk1hKT+cwGOLtdQ2fEpEQVwB4uRYSqk1OC3UP5+y+i2DOUPCM7EljXRBUKFdwQ7DlEgu"
    "eksJteIJTstgjSXpup6W6eFE3IjbqW5hZt3D9qjtQ9ofDpgE5mXyPcR/vxL++yvw3y/Hn5"
    "r/FuWsMafl80dOsk8nA34/Gh0cnIz2Do5Pjw5PTo5O95L5pHhr1cRyfvkLzC2Z9ihONtDM"
    "8g2QllLgbwy+aTPzj70WBO1JKYQ5uf7RM5Xmm4MV881Bcb6hPvYDga/CChfuRGJrO0kDl/"
    "C8PNsh5etPdu7w/PuyHTor1btYjka6sz8L5nc2Ni1ZsAuC/TNyGgF8Yz2xDv2w1XA3oh7K"
    "ayVP0kjaBvBOFBI6w6OjY6klMpHo3axdP1PyaBq+IMaxtEMn5XvUo2ujSWbEnM4EW/+laC"
    "4FFJxFOF08Ffk+l6KZlFdgijyAuD4rH9SYEeufovDcnYC2upj1ywcov9NukQ2bPSerYhvb"
    "E+5UbGns+1ifbdTQOVHVzm1uZ4NsOp6zkqqV29bKLfHdPNN14vrY1slbJ7B9cWLSYqHhKo"
    "9O2MamGk6EWK9cSq2NdrmZEWRh6qNlBYiCDzj8UThLif0Mr2DB0c5Pq0rgS/plIDgOhZUf"
    "/KkiYnYYEdON4216ZV9ApxeuSCUwYxGjLpsmqW0gy+VJgpkoyjYnMQfkpHqTzfJJk0FLFs"
    "+3bKETrZf8eoUlUo/LNRnw8GWQRHWm3efZv6zgl5yjdXyVe4eLilvMeNYEk+ZySzgumdok"
    "9py5Ccf5GuxN2ffkbmObPrLnxDells5V2x49Wz23suVRvsbuyEN3S1M+z5RMvrIxiNzgzj"
    "IpM5ARvD16IB7PmwwFYLyiRxzGRhsoYK/ghWcE6Y5rEnbd8fhJbVScirnuB2w7ry20ZvS6"
    "co6tAsk+uUfVxo9znGR9XDNCbR5kbdpFL1vHqoJeJt9D/Bs/jlTK90wk22bQB4Tn3UjRDD"
    "6GA+QQ/GZzO0XjwRC+ZJ//OxqOB8XFY8M6VjdrpWF1vGJYHReHlVDVrLhICGVbvIsaBWLy"
    "NbtaIGbhC8NwTHh0aZxnndU/20DPTisFBVus6njKy7UYXOjskdLL+jo/cdN2/DBQOe7Vb1"
    "Jdnn9bOAomeG5aiziXEVeZ2dUoVZZwVDX2oIY7QvQouV6QFWpxF9jd+EqmTcOkriUiNsvV"
    "EaFwe5PUsO5A7yHXV/zaCFDgZiUMAW6a6ijkZhC4MqEX48E4OJqM9v5rHBySve/HA/Tfye"
    "gAYcHK1dRDduBs28LYCEEvMDw88SW7wqYhh1WsgVG5NTAqWAMeeTBplKuw4qSWFmktIw7h"
    "SB6Z81yz6G6BQiWeAWtTE4r8gCziU1Dq4MQORGfOI9Pj9Rm2p0yAmrBJuXACZDkOG00is6"
    "CJBzQdxOt4czg1Axdb++/XV59KonjTQvk9JFP30X84KdbY8PpxEtg6IIruAtPyTZu+hsf+"
    "1NSIW4EogAQ1J24N8ch68fHsj/yge/vh6pxDlvJXgArO841CiDYRJhRdQa+nhFo7BFvJsa"
    "c0j6WLRNm+4ArNQySsTq/KrjYCx1jH8wgfzJrnMCVeylQtivam69fIAiQoMV1oKhkSVpRt"
    "sTI9Hrge0UAZIY9MZWX67XgQ/3oDxqUHuXbZxBvczc3w+E2P+IFnU+Q7xeX86dVtOagVs5"
    "eY2iTOaCzHTohkW2yeQtu8ClvjTbhXZxHvHgGdEKVdAELhhcPLY+sl5+g4rRB9aHhaNuHZ"
    "lpHPLKRiB2jmEQ2Pd4PoJer7KhJfL9PfWzS+N92vqn2cxXBBznAqPFfghnwtGWci2R5Avs"
    "r99+KPm9UqcuL9++Hq0y9x8bzenJvqMk4qBfzLPd8Kgp04KnCAPd9kcKCDEbChqRUH2NLw"
    "m0Kj05+ZFD06Ht+PMvACcWdfCptSoYZKjOJEV3vtTzvAECgb3/EWGzSvSLYTLdyQk2Pe10"
    "sCSoHos0YSBwCGJIZpoU6gxx2jYGSHCo+j3yPqO67Lxv+LpTlAkREAtihUj4ZszqBMyYE5"
    "g778gT+W6UmQEtcLbJsVFDtgNfScOto5muQ09opy4cZCaWWWFszSTgXEbndDrb8Rseo0wL"
    "61uiCgrnBOFlco/c3aPS+rIifb09DF8R0bAZvEQWdFVTt3op0lje+sWCcU4obMCeCBjA0j"
    "ydOSapy0eZwww4ZupuSmBVUbt62NJQIel52BPBD4/EJPkDq3F1Ny8VDt0N62abjf4k6+6k"
    "zVlO3/RKSSij45vql30SSoBBjsKz0Rqs+cXLlhFfUVJBq4xAt91Ng4hu7wRMiulxX2r3tJ"
    "xWin5zdsBQluYmyvbHLjsH/WI3yRqa2Ty5sYWcmA9nC2L4lqT5aCdaHtJCm4NuELax1kmX"
    "ayew0aBvx+U3Bo5JGw4UU2qOCBCAJq4QaPkymSvjXXXSXaPnWIC4TCq3D2VoazY108b6zy"
    "tyuZP1oVbrihz0L9J3oxuBxJf8ZIQMFbAV7PseRSqEblewhu/f42E8+Za/KhHzmxHnjZNB"
    "36waxceZgzQgrktSDrznweKWNVncZSIj0AeNu+YgbxsWkJ+nR5hEtKRMW3rG6QDeJbNkmS"
    "WxMP2rqls5u7vpWyX5edt7nyyLwnHrnZuvbdmnVVoKSzLVFshp8dj5hT+z1Z8Ka4ZO8N0U"
    "uruecONkEZGcMue/gxYQLSXY99e5ivmWs+Z9dvz95dDL7tKKlhnscWUUECrnttssNEphot"
    "xCPB98bB8d1on/27NzoZB0eHh3gcnJyQoyhAIkpaz5dH4Hhcz2EPndM4uy+P0xJE2tRbtz"
    "BTcDwIwlCxJyUIVrTQtmgh2ZDAHcQBNt8GtflcSsf/7SDor8M0BST+k7IyEoHt2xgbOIZ/"
    "+Ws8uGd1QvDjODmCfjz4zzj84DGTGQ8g4RmUeP36NfyMJunoyrc/C1N/bbXu2KYxKQ2Iod"
    "0tNgm+FAurOUyUkjOESt6EzAgqS7JLliSrybEeNmr1nKjypGqbJ5ViDBRj0LYm6DhjkPKc"
    "EXAFWb+a9X4jmdIVWIKj708M9q9ByDg4vdMP32STOX5HQ2Od1WlPwXTHaGLaYf51eGSYXp"
    "0HBybpdb+DROuW5Ty+ClwRebCNR653NVEUQispBPlErU9N0dq26ayRrPitPHqiT4mxunGI"
    "Vp8QpzrTb4o4X8+xZZVOFolQn6aKg9HJcTJLwI9VE8T1x7MPH4qzhI+nUmRYXL4d++3wvN"
    "7styuPk3LAG/E4CVVHLXBlZu2MUA9AbzzbHc9LJNOplxI9gHc3Gbc2prjLxFucYnBnCnaC"
    "1QaOUllRxXe2mu9UOXCe4W5GO1juZ8IMSQRqFynZdXx4HMzYMBu+06Zqhgt/Er996ZP5u8"
    "DjrPS1j6MulaO5i4WG69luTlIZkRSPaqDVaO/flykxKYK4k/QR976D4qyvnH22+UGjwDCn"
    "WWjKD47DaMYsT2fq4fmwwHQ38pSxfc+qCJN7En4KDLtl6hTNsG1YxEuSGAf+nfP1B0SJ90"
    "BoeHIMUzSYeQ5Vh8558Ozk9KWaGfPnQpc/UYts/4nBPT/OIBARLSvOMAiELIvKEDlIpigZ"
    "FjEj1A4qcZPQncFf48GPqTzL9CfwdfsxPFgEZmQ+l//0rbBESMjtmJRUqSDLR1I3jR+BzZ"
    "skvdhYB69PbUxluRHoi9kcOOsUxTAdsebHxSsl1ch4F1CfuDAgw5r4iZau6zkP2HqNfsUe"
    "tixicQ2OhsdHgAeDy8bwshJxdo0mHlIlzYZgzzGOcV9GB0MCjiH6Ij5sJCqmMnS0048C+p"
    "LGAZBQb7JCfdoirTEog0HEf0io5RmhHgZnHFU5O/So/OjQo8LJoSpBR6MH4nTBV2WHkDfg"
    "rNKNk3BBrWhqB1Qdp9aD5c9xTVuY+at8Gz8lovbxpffx1aZjed/upt1dZdNRpRt/Fg4Frd"
    "ha3vUoVgFUu26CjgdQFZM7CwhDYQbodbxhMQ91NfoQEqEcH4yDo9H3JDyiMazH8b6jyCDz"
    "MIAJ+9njZ9ck462r0g3pQZWNt7Vcn7Lnt27Pq/wRW/Kt7YhR3z3Pk9QKSSgVZhoqt+lTIr"
    "2YLrZu1TOlR2aajsv3gEDJzsynFSbm09J5+bTgz6PYkmfIljArgt2yiDHd8CjDgrjiTRRv"
    "0vbxrHiTXTdBx3mTM+KZ+mwgIEuiO8NVDAlellnHh5QDqpzO2+V0/kA8KnmwT0qkF6ZA7j"
    "yJo6MKGiorVX6iBNzLGbWuVKR5VLyH6O7vVXEcYqXK3QD2Cq5D7Im+MH1CuRt6SqQLuV3r"
    "UPpqcxLfqbvwt/8HKnLpAA=="
)
