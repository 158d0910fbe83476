from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "notify_consent" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "openid_hash" VARCHAR(64) NOT NULL,
    "template_id" VARCHAR(64) NOT NULL,
    "remaining" INT NOT NULL,
    "long_term" INT NOT NULL,
    "last_result" VARCHAR(8) NOT NULL /* the last answer the phone reported: accept, reject, ban or filter */,
    "refused_at" TIMESTAMP /* the last 43101 WeChat answered: our count was wrong, it is zero now */,
    "updated_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_notify_cons_openid__288275" UNIQUE ("openid_hash", "template_id")
) /* What one WeChat user allowed of one subscribe template (``wx.requestSubscribeMessage``). */;
        CREATE TABLE IF NOT EXISTS "notify_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "key" VARCHAR(64) NOT NULL UNIQUE /* ours, unique per (event, channel, recipient); the SMS provider's ``OutId`` */,
    "event_key" VARCHAR(96) NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "recipient" VARCHAR(32) NOT NULL,
    "kind" VARCHAR(48) NOT NULL,
    "template" VARCHAR(64) NOT NULL /* the WeChat template id or the SMS template code */,
    "address_sealed" VARCHAR(200) NOT NULL /* the openid or phone number, sealed (``notify.ledger.ADDRESS_CONTEXT``) */,
    "data" JSON NOT NULL /* the values, already formatted to the channel's rules ("{count}" filled at send time) */,
    "page" VARCHAR(256) NOT NULL,
    "urgent" INT NOT NULL,
    "batch" VARCHAR(96) UNIQUE /* staff queue messages: one row per (person, batch) waits and counts what it stands for */,
    "batch_count" INT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "next_at" TIMESTAMP NOT NULL,
    "locked_by" VARCHAR(64) NOT NULL,
    "locked_until" TIMESTAMP,
    "last_code" VARCHAR(64) NOT NULL /* the channel's code and words of the last attempt */,
    "last_error" VARCHAR(300) NOT NULL,
    "failed_field" VARCHAR(32) NOT NULL /* the field a 47003 named */,
    "reference" VARCHAR(64) NOT NULL /* the channel's id of the message (WeChat msgid, SMS BizId) */,
    "receipt" VARCHAR(16) NOT NULL /* SMS delivery receipt: "", "delivered" or "undelivered" */,
    "event_at" TIMESTAMP NOT NULL /* when the event happened: event-to-send latency is ``sent_at - event_at`` */,
    "created_at" TIMESTAMP NOT NULL,
    "sent_at" TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL
) /* The send ledger: one (event, channel, recipient), sent at most once. */;
CREATE INDEX IF NOT EXISTS "idx_notify_deli_status_0d27f4" ON "notify_delivery" ("status", "next_at");
CREATE INDEX IF NOT EXISTS "idx_notify_deli_status_f7d688" ON "notify_delivery" ("status", "kind", "updated_at");
CREATE INDEX IF NOT EXISTS "idx_notify_deli_recipie_88363e" ON "notify_delivery" ("recipient", "id");
        CREATE TABLE IF NOT EXISTS "notify_attempt" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "delivery_id" BIGINT NOT NULL,
    "at" TIMESTAMP NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "code" VARCHAR(64) NOT NULL,
    "detail" VARCHAR(300) NOT NULL,
    "duration_ms" INT NOT NULL
) /* Every call to a channel and what it answered: the administrators' evidence. */;
CREATE INDEX IF NOT EXISTS "idx_notify_atte_deliver_375cac" ON "notify_attempt" ("delivery_id");
        CREATE TABLE IF NOT EXISTS "notify_failure_alert" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(48) NOT NULL,
    "hour" VARCHAR(13) NOT NULL /* the hour (UTC, ``YYYY-MM-DDTHH``) it was raised for */,
    "failures" INT NOT NULL,
    "details" JSON NOT NULL /* the 47003 fields and templates of those failures */,
    "raised_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_notify_fail_kind_85523b" UNIQUE ("kind", "hour")
) /* A message type whose failures in one hour passed the threshold: raised once per hour. */;
        CREATE TABLE IF NOT EXISTS "notify_inbox" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "recipient" VARCHAR(32) NOT NULL /* ``user:<id>`` or ``staff:<id>`` */,
    "dedupe" VARCHAR(160) NOT NULL UNIQUE /* ``<event key>|<recipient>``: an event redelivered writes nothing twice */,
    "kind" VARCHAR(48) NOT NULL /* the message type (``case.accepted``): the catalogue's key */,
    "title" VARCHAR(64) NOT NULL,
    "body" VARCHAR(500) NOT NULL,
    "link" VARCHAR(256) NOT NULL /* the mini-program page that opens what the message is about */,
    "subject" VARCHAR(64) NOT NULL /* what the message is about, in the orchestrator's terms (``case:12``) */,
    "created_at" TIMESTAMP NOT NULL,
    "read_at" TIMESTAMP
) /* One line of a person's in-app inbox: always written, whatever the other channels do. */;
CREATE INDEX IF NOT EXISTS "idx_notify_inbo_recipie_c12a29" ON "notify_inbox" ("recipient", "id");
CREATE INDEX IF NOT EXISTS "idx_notify_inbo_recipie_3a5272" ON "notify_inbox" ("recipient", "read_at");
        CREATE TABLE IF NOT EXISTS "notify_sms_opt_out" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "recipient" VARCHAR(32) NOT NULL UNIQUE,
    "at" TIMESTAMP NOT NULL
) /* A person who asked for no SMS (退订). WeChat and the inbox still carry their messages. */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "notify_inbox";
        DROP TABLE IF EXISTS "notify_consent";
        DROP TABLE IF EXISTS "notify_attempt";
        DROP TABLE IF EXISTS "notify_delivery";
        DROP TABLE IF EXISTS "notify_sms_opt_out";
        DROP TABLE IF EXISTS "notify_failure_alert";"""


MODELS_STATE = (
    "eJztfet32za277+CpS917lJ8/ExSt7drOY/O5DSJexJ3OvdUsySIhCyOKZJDkFY0nfzvFx"
    "sgKT5AiaRJCaLRD6lFYoPkxmvv3379OVi4JrHp8RtsE8fE/s0D8X3LJIMr9OfAwQv4o7TN"
    "EA2w561bwIUAT21OZLg+GRsRydhN00xp4GMjYK1m2KaEXTIJNXzLCyzXAdprB2FzYTkWNA"
    "xc/zuKWHc+MaABcmcomBO0dP17y7l7buIVip+DZq6PXIcgEwfkCmE0d20LGjACeLTpGqxL"
    "RtXZU0aOh417fMduuoQixw3QveMu0YoEQ8TIMFrge/I89OKeERAejcJXxsn5KLyYnZ6yf8"
    "kJHoUvz4n57BheO3Ssf4VkHLh3hD3CZy//xz/YZcsxyVdC45/e/XhmEdvMjJ1lQgf8+jhY"
    "efzaeyf4mTcEjkzHhmuHC2fd2FsFc9dJWltOAFfviEMYmwh0H/ghjJoT2nY03PFAijddNx"
    "GvmKIxyQyHNow9UIsXWF8bjMefbm7HX97djseDwryIKVKDGF0yXAcGkb0q5V9/B6/w/Oz0"
    "4uXFq/MXF69YE/6ayZWX38Sj14wRhJw9n24H3/h9HGDRgvN4zVQ2ZEWuvmXMkbM1ap7jK0"
    "yewFqQY/gjz+GYn8qyeAP/3l7fvuMMTM1COobpLuXba9e1CXZKZmSGMMfBKaNswrj4wppz"
    "631ov6x7fXPzAXpeUPovm194fwu/XbZfim31028fX7/7fHT6DC6zRlZA0nN2zXK285Ais9"
    "/MsS/ndNw+x2P24l2xeDDoavkv8Ncx26rvgjn7eXpysoHjf7v+/Oav14yhJyfPcpyObp2J"
    "e1nuGj4BboynkgldzuMsVe84/eKiAqNfXJTyGW7J2YwD+X4L++dmVgvKTVsv/HGAu8iAfa"
    "B549iraOPfwPrb9x/ffbm9/vhrZmuBbRrunPGrq9zVoxe5YUo6Qb+/v/0rgp/of28+vePs"
    "dWlw5/Mnrtvd/u8A3gmHgTtmEtAYm6kzKr4ac+0bCDCz+9RpCxemTJRaYt8cF+64Z25Z2+"
    "KtxdkifwU7TEQzI+bCa0Yy7k0YTN2v7x6IE8hE4PTt7dKvy1uPSdK8iuDLW6OlbwUBcZDl"
    "cCmUstdgrMMOxUI6xZRfN+bYYaJmMMcBk05DSkxkBccySbeFbkfOyPmdHcbEZ4Kyja0F8p"
    "g4DCKs7y4pWs5dStBkgh+wxRcNW3uTCZpjEKvZc44mk59vPqPffoUphr788v5X9OHmzS/v"
    "3rJGLuv6VzGJvvzPh2dDkKhNeJUFCp3Aslm3tmvcs/XMf04mQ4QdEzG2W0yxEA0DFz7SX7"
    "EnOqbNrkYSfOB6lsFefjIxmcw+ju5S9lQm6ru+KT45viw+GtuwulaIhoZBiEnMIaIuk919"
    "ErAH4FlAQJL3sB9Y2B45M/bFoU+EfG/4mM6RA++C/NChoB9EbxQsLYNw7SHhPh+XY3TNu4"
    "SrNqbwfNtdEnPkYDZcCy/gd8QQWpQxw2Rvxz5A8Abn9Bj2lp6NVzSeCtu1hz/Y4YODkE/h"
    "9PAN/lFLr3ht3T0V1eL7s7Pz85dnJ+cvXl1evHx5+eok0TGKtzYpG6/f/wVkt8xWu10B4X"
    "O6juSREHQldOx0DDqWOjy8sl0smeD//eXmk5y/KZK8rGEZAfoPstnqPEApYwNrgRkZgSJm"
    "6dHH67/nuf3mw83rvKQAHbzOsX69D1Wd2WuKnU3tQXTu7Uh/eVFFfcmLaynt5UV+fkeHio"
    "TNpdt3mmT7Jt7WxD7pdhN/JD6UYmj6zKypqORptaqiuqqiFdSnPuqR3tFo3PO0LYx89Mqq"
    "DPyBDHTMk40jDdrYmPi+6xfH+ZZ8LTkts1Q9wPk2Dem7v99uFgOTEf1w8+kvcfO8bJg9UC"
    "Nlvx66miHqAdO7VnPSiErdXSxPq3cxlXexDPBVR60tEO5euR38OAsdgU5OQ8sOLIcew/N+"
    "2sNe14nKC1heIzkCaxFC1cWniDXjLQGIelFizEjdHW60ZeAA2+4dG+VM+23GjPLB1u4sar"
    "mzGK5Zy1Ugbt+OjLVf1nYsY/H/12Bt3H534usBM9cmD0QiuW7QEGKCHrK3fZiY7fZsrx/X"
    "3R1yZI1YrZg40vVE9skde6PanM6R9XBSV5nT5VO6aPgwTSbY1TIvpUh6BymcVfKMO9vgGX"
    "dW9Iybu6FMxyzncEKg+VuFvx7jUb39OCboHX/Pzyqw9/yslLtwS/sbanNO6JkNRz1LqUdd"
    "lVGXADP87RXBZd4HZDGQIDL8+rAKFmPFLau4lELj7yiyTCaXW8GKu05yB0SCfWOOPN/95z"
    "royQooMkIfZHjkhVPbonNiogfiU9ZA6lracvcaHdLokCqsffLo0CHH6NyzD6vD3bh977h7"
    "UYW5F+W8vSiwFoemRRyj1uRN0/SOxe2jb9zqyl5gvKi5/xYIe8fs9vW+GSHjGXGKbN4U0p"
    "Ai6o1L7E7iGlJghu8uLMoUKNtaWMHYxKs6Tskl1L0ZjNb8k8lXD0DMceR7WDcIW0a+w1Ds"
    "5MrBxmLb4KuxNp/XBvrL6Hu3s3dhI8yyrq7IXUavWb+V9bkJW8soIKNVl+UDEXi6fmkUYJ"
    "7bBX4PIap2NBjCd5zyf8+GowHEk0IKmQ/vf3mHZpYN4Z8z9k5UGsDbQf+bJ0MlfezFBn3s"
    "RVEfgyhdUn8q5MiUnwX8feWDUjaw20h2P1YCuxsH5KsEEy93fM+RKTxWEF/tPzcwJQi+eY"
    "juyWoJ0eBDNGPvgjzLWVkOxzItx4Iwb7jj+mJBie8sDmdrve7Z/z5BZscRMjuuBa2WkTeS"
    "zHfjCzKwzDhhwBqWnkwAkf+b+IbJ5AeI+bfZoCDxqXzFYhg/Yt05MNZo6gZztITg+6UbRp"
    "xJT5BOnjJyIKeYSHawdBE3FrB9fuG5lFrsb0iNIOyTkPiBTUfiS7eVlrUOi46Tj6ypceRJ"
    "O9M2Cmjy4Ssb2oZdLvEepjVT27Cf4qi3YMNeT4/oHJYI3q8jyp9/+UxszHlbnAYp+3R0Th"
    "3gPPgWz/z4apqjXZr6Y5aVWPxTHK1m+I+lKk7RahjGH4PYscAJF1N27R/a9L5H03s0CNUZ"
    "uybYHQiuPH8PLbuM6eNZcKhmy7vQkmHb5SGmCYHOm/SIIFKdj3QnkLbWrcpZf5hSttatnu"
    "Kol+lWcgy0/rjnaXWEvjoDXVzfPhuDZsmcspR6lFUeZa4511NT1xRanYrUqQL6lGVwkbs/"
    "C7vFL2TFmfyevRGWe4HmgiAOjLll6BK77ONlgpikJxX7dvbFRAD5n9kE//z+DePxfmJSbs"
    "EGPZBAVOLGsAo4FSRNdXKQQ1rUww0YlA7/eMLhHztjbgehvIwVd67M13XD3E3R9JDJ7aN9"
    "6deqweccWe+Ap9YC/xWJV33jLjzsrGTSQXxro3zA5PI5G/51Sy0e9EU8CKlRqxBF3L534s"
    "Hpqyqb66vyzfWVFg92Gx/6QHyLddcE98mR9hDY7RPyo6025cvsMPH7KlYbm9xhe+wTrx7o"
    "lyfrCvk7NCFgA/CXsKwF9O83Sg6wIlVV8C8/uWojgKkQfMYhWQmfOv58kfB+fUcOEs/ei0"
    "NfhmflClHC02pa0RjfVS8SiTziU6jWaAQQBDYTZQdFR1BK/CUxZqPw8ux7AqXEp/jZEC2t"
    "YI6o4bJ1/QPyyYNr8KkBcWSEIjKbESNAOEAuW5ySJD+7eKLW7NTS7MTYFRlb7sq1ptBlAj"
    "JCUhseXpbzYAUiDnI8x3ReRzOU0baSl1ch/bt9eD7iGvnqWWxcGmgP0g60k4DKqiI2DOI1"
    "0xVzpHqcVR5nEEjuG7r8pCn1KKs8yhr4KT88+wv8xCpVLa0gS6RBn2LwTEiJX4+nKYqOIv"
    "8PjZ8bQLSUefSREFrKJHtYM7YqipZdqxkM7c31lzfXb98NCjN3d9CkWrO2Kk9Ta1Upt8Sf"
    "sUH+xq1tAj8aSCC3QpvhVthtxkjGD3mardDbjUPQ74Qp2gGCHp6ne0BRjfQhoiQIbGIilx"
    "2vaLpCbugjd+mw6z4jeE4tkyA2N/xVEWnr4gEaWFMLWHPDYEzJv5j8UgfDyVL1zn2iffiG"
    "Lx25FFjO5QxR75h8elbJSeVsg5fKWcFNRcWgagk+7BHHBE7thtGte1pGE9MnElW2dEfOEi"
    "mcfWtvSo1GCMpZ3V+EYGY5TSM7c6Qa/1MZ/9s9ZKGYRt0xZrFbxVox3j5Ws06giv0o1h+x"
    "A5vUQKJPx7eGW9XoRaplBb+VGV5YTGONqMBx5IJMz0bh5bkxhb/JuXAieXaFJhPuETOZsN"
    "YrxF6D0YHbyWTisVExLA/bk4nMU6WTZ2gVWi0VmgfRlmSSLvdPyVIdro8K/xDEP4QnfY3n"
    "uuFCYrgfEIBEK/R/kUguDY2LC6VZF3v2gWEqHB3LQs1AZpOPeYpkk6x2gPL5BuaD8FVkXS"
    "N5N02nhV2VhV0xUvUSgKVp+leovX0URsMF5azvL1zApcR6emSaRCuSssJfkYBds7BAjkyz"
    "dquOnrBMK+pbFPX85Cqxgxd2Bs3YLYxNb4ZKORf8yqNasM2ObnxtGISKdZWDQySthluRES"
    "8iGnMdFq/JtsIk77jKxcvFwJEK9UIwiruLqmyz7/PB8M/m1WwWxdqAGscIIEyH/blCd/iB"
    "XDFSwJ++owUFsJvHjBzwQziaTPgITCZoMrHMsUhLzX79F2ArbP6TyeTZELk+L1G19K0gIA"
    "7UJsEIaud8RwGGWaS6GTnsT3ZpMhmyHqANm06sPyikI+6Mo5ZDRI7vjuEx/FPo8clx6gV+"
    "YDciPI5RW1z3dUYOr8cSRTg5dMmWIFRNASgI7gAwFLlgXPH65dEFJ+CfkA2G4gQw39Fy7o"
    "6cmQV+GlaAor54ACDjHxRUZI1Ypw/kmYaYFISY+JyvJ52kSbRkooIHac8ZOouZVlXfTwh6"
    "mCOkixRi/JwpMnhTVegUUX+cnndcFnp9oNea3Bmq3iUV6yQHjpDk6nB5TdHDPaS1xG1ZHr"
    "MvpXIAaROf01S9m826NoPGZptiswW0az/owWcyY98xv3XviTQsIXN/uBUx8EVzpgHG7SuF"
    "I0RkiJMJLZ4SCuXBIleIH4RybkYtAogtYNoqoQjYgEQ8q7ACCwJ5VEJHz9Fqr1pqLx+82g"
    "kmslS985tv/7ASK6CWdJtQ7KwS2QGrbjSc/pMYEklgQ1TCmkRzeDuHcWhaJDJqVGVxmqaH"
    "2kP7/gbNc8+0nnRGNdYfiAxb1U+9UXUxql2zDmJ8dbaZpzDKGoAoPyc1ANEBAPEF7I0DCf"
    "Igbgy3Qg40aVcheIM3RgsClnTQ/8F0bxIP+8GCgCk8msTgL4AdhM0FRMqxXgPXl8VpPLY7"
    "DRyoBRyAqbZuxYI0jQYNtoIGuiBEh8xd7z3juiXPJKT9QxDa57jv2vXitxKCww3dakMw7i"
    "S0CjJ7P0hm/WuXMR07JXhOQpQbkSmj6moo4iWwW6a/vrn5kGH66/c5N4ZPv318/e7z0Skf"
    "AdbICkq8G1yPOPVswWsKnbV5264yZZ/VLEt2kVJZbg/uyYrJxvCeIDuDTY3Jz89BO4zTh8"
    "HXQK5++KAhd5RdzsHJNmCSt+tRtHT9e3a/KJq32/XeRr85dFrWh0ZfDgF9qRcAmaXSXjba"
    "y+YRrO8XyJUxUHhmw1HPUupRV2XUJXtqUjpJAWiTB8RJkM04UG4LsBknJqqCaxpWYP2bOF"
    "ccgYwkHCFwC/nHogiwx+ee7975WJJKo1kXGr9UC7/cuVamGHs7lhvYV7o1+Zsi6Sg3RZ8Y"
    "HDljjpn6NiZOrZrMElJ1JeEBaKTRHhs7oLIXHyL25v4KCvBAkCZyIHMRsgl+iHxORW7s4u"
    "79+O72EVGAbfibPeaBSAL7vyywbZeeCEXqrmLriqN90u3pcH728kVyMMCPTWfCl4/XHz4U"
    "4Tlgz7iuqSVDpO7iUWa3SmKy6+5VBcL+pS3qZMtY86128cACpbKwqDLTm+c4qDu1M0R6Wl"
    "ea1oJndad0lkoLlxVgdZ9p1XGixCL+Uwakp6kemX5Rsbm9gcOS7IuUfK0nkH/tpRxxWsU/"
    "vtw9vigG34HaUtddI0fWOy5XiUIoD0IoxCDYp1GhpEb4b5Fam9HUgXyLSL999qjRLlDr0V"
    "Z5tLU1r3xPPUy7jrbmPcVRb8Galxaroux0BNxgIK2dJfPTfB118/Mvn4md1FDcQUnSfez2"
    "hRyXWedJ9lFGW0y6jnOKHuSxuJlRhbKbj2SZrPJnHydYVJ6BjudElhOrDstSxV16zak764"
    "FIEls9cVZ1Ho72mZ2fg7KQNH5zuMl7gwbsbLwjIjJt7MftKybN5U6qOBda5rGhM3kMWZy2"
    "FfLLWjYp2gIb96KdOdRy5gg928VmzYxrGaL+BfB0kGRFp8htO6OrzhWovZi1Bty/UP3f+N"
    "kiE4yiO5WkonDddptEVD7e22WVPwbuks3ZcSr7dlI6jw8qm82+hW1xgRH/MYjS31doXUsQ"
    "2uSV0N5Wp5ArQluH9AY/1/zQVjy5C3QKlxMfLOcuJVw8B+c9i14ltS14yYZ1uYYjKAABRS"
    "H4yuKBQElhCFHH4VlRTWi9966LnGcWZ8XxzhIpPNh7k9VSo1pfzdhDzNnBbWIpN5/QZ7JA"
    "LSt/ikSzuAKLM2d25VM4TdQ/l7X2FY+sMFSD0wVCze0Kal5ZAY+nVb2jxXozbLBqesanaX"
    "q4EXfi1WrY2Fpw66sTQFYhzrAaPC+j7yH/O6mKEvOPWv+WpcTZVP0nR7m7yJrut5EdFwGC"
    "Ya4/AGkqzfzGzLccpv+x14KYwFoCYY6ufwBNpf3mfMN+c17cb2iAg1DiCrHBQzyh2Jmhau"
    "ARnvZnN5h/+7nUXZ7ev+6EzlL1LlSkk+kczMPF1MGWXZfZBcL+KTmdMLyxnNiGfKg0uzsR"
    "D+tLJY+SSFRj8F4EEjrHZ5cvah2RCUX/pnX7UMnSMgNJDGXpjE7a92hKt4aTzIl1N5e4Fp"
    "Ryc02g2Vlkp4fvZL7VpdxM2mtmyjyMuEBbP2gyQ6a31L45Ge1UB+mXj1He1m6ThsOeo9Wx"
    "k+qEUxVHGgcBNuaNBjpHqsdZ5XE2SdP1nKXUo6zaKCviG3ptGMQLsGOQN27oBPLEp8VGw0"
    "0eo2DHpmOcELFZuabaGk1zOyfIxjRA6w4QBR9z+KNQq4n9FFewpHT047qS+Kr+MZCUW2Ht"
    "hWepjrjZU8TNYZTP6ZV+AZNeeiKVsBnLIPW6aZhUY3K9PEywE0XZ7GrsATmq3mTLfNRmoM"
    "jh+YYddLLzkl+vcEQacbtuAyqSqNFMUIUpDZ6IrnL/cFlzmynPY8mmubYJxy1TVmLfXVhQ"
    "Lthkb8q+J3cbO3TJnhPfrHV0brJ79Oz03InNo/yM3ZOL7o62fJ6JmXxlaxB54dS2KFOQEb"
    "w9eiA+z8sMDWC9oiUWsdcmCtkr+KIGkeF6FmHXXZ9XgqPyVM9tP2DXeXNhNKPXrefZKqHs"
    "k39Ua/g451NdJ9cMkcqLTCUzetk5VpXpZfQ95H/n5U5rOZ/JaFVm+oDwvB4pmCHAUKAOwW"
    "+2t1M0GgzhS075v2fD0aB4eDTsY/OwVlpWLzYsqxfFZSUVNSseElJaha2oUSgmP7OrhWIW"
    "vlAEZMKjSyM92+xeh3oeolBQ0MWqrqc8ncLMhckeCb1srvOKno4biFDleFZfpaY8/zaxCm"
    "Z4YdmrOFcSF5nZ1SgVl3RVdfagjidC9Kh6syBLpPAU2N/6SrZN06KeLQM2y8URKbG6SXDY"
    "dKD3kEssfm0EXOBqJSwBrpoaSGAzCFyZ0NFoMAovZ2cn/2cUXpCT70cD9F/J6gBiycnV1U"
    "P24G2rYHCEZBaYPp4FNadC05jDKtrAWbk2cFbQBnzyYNEoF2LFTS1NoiwiDvFIPlnwXLZo"
    "ukJCiGeMdagFTX5ANgkoCHVQEQTRubtkcrwxx84dI6AWGClXbohs12WrSaYWdPGArqN4XX"
    "8BVTlwcbT/+8vNp5Iw3jRR3oZkGQH6DwfFOlteP85CxwCOomlo2YHl0GN47E9drbgNHAUm"
    "Qc+JW0O8so4+Xv89v+jefLh5zVmW8leADl7nB4WQ8UyasHQDvJ4iUnYJKomxpySPtYtEmV"
    "1wg+QhI9bVsbKnjcQx1vV9whfz2HeZEF9LVS2S9mbqt4gCJFxistBdzZiwIq3CwvRo4Plk"
    "DMIIWTKRlcm3o0H86wqUSx9y+bKNN5wuLFHe0ydB6DsUBW7xOH98dzuOasXsJe4cEmdMro"
    "dOyGgVVk9hbJ6L0bgStjqb+PcI4IQo7wIACkcub4/tZxyj47BC9KGiGjfh2ZxRwDSk4gTo"
    "5hEdr3eTGCXi+yYQ3yiT3xVa303tVa2vs5hdkJOcSusW3JKvJetMRtsDlm9y/33399vNIn"
    "Li/fvh5tNf4uZ5uTm31WWcVAr8L/d8KxAeRCnCAfYDi7EDnZ8BGpo6cQAtFd8klM5gblG0"
    "dH1ujzLxCnFnXwpGKSGhErO40bXe++MKJAJkE7j+qsHwymgPYoQ7cnLM+3rVYKWE9ElzEo"
    "fAjJo8TBMdBPe4YxSsbCHwuMY9ooHreWz9H63VAYrMEHiLhHg0ZHsGZUIO7Bn02Q/8sUxO"
    "gqS4fug4rKHcAauj57QxztEmN2avWC/cWEqt1dKCWnpQAbG7Naj1NyJWVxvs26hLAuoKdb"
    "i4QBk0G/c8rY6cVGegi+s7VgKaxEFnSfU4H8Q411S+s2QHIRB3pE4ADmQ2jCRPU+p1ovI6"
    "YYoNbSbkpgn1GKs2xjUCHteTgTwQ+PzCTKhVFxhT8u6hWlFg1STcb/Ek31SzNaX7P5JTSU"
    "ef3MAyDlElqMQwsCs9klWfObhyyzrqK5No6BFf+KixdQzT4ZEs+7LusH/Tq1aMdnp/w3aY"
    "8E3O2xuH3Lrsn+0cfpfp7SCPNzlnawa0i92+JKo9OQq2hbaTpOHWhC9sdJBtOYn1GiQM+H"
    "1VcGjkkbDiIltU8EAEAbVwg8fJFEHflvuuEm2fquICofA6nF3JcHZsyPeNTf52JfuHUuGG"
    "DX0W2i/pxdjl1vRnjAg0eyuw13fteilUo/Y9ZG77/jYz312M64d+5Mh64GXTdegH03Lrsz"
    "lDpJm8lcmGu1hEwlhVp7EUSQ8YvGtfMZME2LIlc7o8wiVFouNbNg9Ig/iWJklyW8JBlTs6"
    "D9PqWyn7dVnBzY018x5Zc1O58d2ZdlWApLMjURyGn12fWHfOL2TFh+I9e2+IXtqMPR/gEJ"
    "SBMeyyj5cJEpCeeuzbRb5mLvlcf3lz/fbd4NuekhrmcWwZFCTBurcmO0xoqsFCPBL8ZBS+"
    "mJ6dsn9Pzl6OwsuLCzwKX74kl1GARJS0nh+PgPF4vsseuqBxdl8epyWJtGm3b2mm4HgRiF"
    "CxRyUI1rDQrmChuiGBe4gD7H4MWvO5rB3/t4egvwOGKSDxXy0tIyHYvY7RwDH8jz9Hg3vW"
    "JwQ/jpIa9KPBf0big0eMZjSAhGfQ4vj4GH5Gm3R05ds/Clt/a73uWaexKA2JOZ6umgRfyo"
    "n1HiZLySlYVV+FzBBqTfKQNEnWk2s/NBr1HKn2pFLNk0ojBhoxUG0IDhwxSHnOSLCCrF/N"
    "dr+RTOsKKMHl9y9N9q9JyCh8NTUurrLJHL+jQllnfTp3oLpjNLMckX8dHinSq/PgwCS97n"
    "eQaN223eXz0JOBB7t45HZXEw0hKAkh1E/U+tgUraptZ51kxVey9ESfEmMdRhGtPnGcGky+"
    "KfL5ywLbdulmkRD1aas4P3v5Itkl4MemDeLLx+sPH4q7RIDvaoFhcXs17O3wvN7Y27XHST"
    "nDO/E4EaLjOPTq7NoZoh4wvfNsdzwvUZ1JvaboAXv3k3GrMcRdRq5wisG9CdgJrxo4SmVJ"
    "Nd6pNN6pc+A8QWuGGij3E0GGagRqFyHZbXh4HMzYMRq+16HqBgt/FL79PiCLt6HPUekvAY"
    "6mVA7mLjYabke7OUhlRlQ8qoFWg71/X6fEpAjiTtIl7gMXxVlfOfrs8EKjgDCnUWjKC8dh"
    "NGeap3vn48WwgHR38pSRc8+6EMk9Ca8Cw25ZBkVz7Jg28ZMkxmEwdb/+gCjxHwgVlWOYoM"
    "HUc+haOOfBs5PqSy0j5k8FLn+kFKl+xeCelzMIZUDLhhoGoRRl0RkiB8kWVQdFzBCpASU2"
    "Cd0Z/Dka/JjKs0x/Al+3H0VhEdiR+V7+07fCEVGDbs+gpE4FWb6SDlP5kei8SdKLxjJ4e2"
    "JjKsuNRF7M5sDZJiiKdMTjIG5eKalGxruABsSDBSl64hUtPc93H7B9jH7FPrZtYnMJjory"
    "EeDB4LE1vO5Enl2ji4dUSbMhsTnGMe7r6GBIwDFEf8iLjUTNdIYONf0oYC6NOQNqiDdZoj"
    "6ZSFsMymAs4j9qiOUZoh4GZ1xWqR16WV469LJQOVQn6Oi0IM4h+KrskeUdOKscRiVcECu6"
    "soDqcmo9OP5cz3Kkmb/KzfgpEm3Hr23H10bH8rl9mHp3FaOjTjf+JBwKlDAt79lLWMdP7X"
    "kEDjx8qpjaWQIXSvM/b0MNi1moq4GHkAblxfkovDz7nogCjaIf1/+OIpMsRPgSDrLFZ7ek"
    "4m2r04bgoM7FqyzSp7X5nWvzOnvEjjxrD0SlPzy/k9QJSSiV5hkq1+hTJL3YLnau0zOhp8"
    "42HbfvAXyS3ZlfVdiYX5Xuy68K3jwaK3mCWAnTItgtm5h3DQsZFsg1aqJRE7V1do2a7HsE"
    "Dhw1YcKG4xD7xjc5BlBMUZu+P9yElXh4BQokHRuCZOwmNJXcrHAQkIUXgEM86wqSvRCCeB"
    "8omPtueDfnfk5R7+jICiiaTNwwGLPOTcK2ickERbhH1OiZ3NeqsydVwVT4c6KJEBFrREVR"
    "RCUenzoi+pqkFypR18b6RU2katFfeKplJSi9X9XhcJ6ud9EjHRTpWkA4yHhGZBUUN+zWWb"
    "o+IX872bjV9qoqTPCDdqoybEuaiqY8pGdNccDxPMvYksYERQIWNvFVyCHEpEPEQzCpKwxu"
    "GPmEDRIxUYA9xERAEW1JGQdRJBwjOickKAilnT1l3wmMNA73FIAY8tWzWHcNhjlLqYdZ6W"
    "Fm+07oOw3TeWdIDwZXHUg2ZYotkXWW77LsqkvZZnzkwWXXh6rHz64Qeyl/xfZs8LmYBQIG"
    "yWz5bXbc4zlnzIlx3+wEyVAezIx7kjsLcZr5uKbp9AirPMJp1LO6fpym0tpxW+aaBJd/pL"
    "3mZ0ISs8CBjUNVo016AmasNp/Zivj8/s3tJrPNmuOxaUQy+yPKn3/5TOwkX7+c37+KXnrE"
    "7m9dWrbeWuxdicfm8GogMWylbw8r2bXMHEW15AHWbEZ8ApmepiRYEsKdcIWRABx2sWWv0N"
    "SybV7MwA19xD0Q/JIsAY/pTV5ecW2vMDH/LqjqBf9n3+zzC3lAGH77ZBY6JlzQFRmV2fOH"
    "2pS112hqsX6KAmyJz7VovkluPUAmb2AqCKI5lsV7TdUpGbfX87HCfEw28KrcTQhUZu9gFJ"
    "/IowHAIqOBOItGg8KJubHl0zXFKjXt24/JyIonNbmdIVTXzZrDh+Jd0TpJHI4v2ZZDoN4q"
    "m/czSB6VGIbgBiCKfhCnBxWvie7J6pkUo+ziITueEOxRDsXcGihFIMpnRJFS3Smh0PrzaX"
    "1XiDRVj/Jt7NgPgi02qwn3s3Sa/035fxghmEXPlCbHD1iv0nkLh2g5Jw7f7/kJADwRFRzZ"
    "KQBQBAfT6A/iyHABglhawuNbahlrqe8d734zF+SH+qaMNJ22gytty9BlrZ/YOE9radE5st"
    "5JjO27zzpuUOuojNv3jrWXJ9XyZ25KoMkzaBasf/sJLkoshBL7S9p6WMH4MiOkbkARRPUE"
    "LmLzxiZGgI5G4cvZ+cUofDE9J6Pw+5NTDLlUyOUovCAvXpTECjXppEoY0Nr/2GRN2UvrGC"
    "A1DSci4c9YACA1d6ksobqBFIPNsxrunrJ/L89nL4cxmGM5cel1203s0vlMRa10uuPTyCeR"
    "ibXeoZ8iUrho89rVHDY2iwJ0N4zZ7vrGnACrAyhDwdgekK+Qjj4g/oJeMd0KYlivfrTMny"
    "Rge5sd7xqx8ogzbjTsRcpGY58X4jtZ4+RfIbbhLJtMkjeeTJhibdkkGiWIgLVETYEhf4Tw"
    "Mb2CYNcFk66Fxs0rDvC2nsSxtZvHjJyksyEiDptcBjHj4lewd0/ZDIIMZ1Om/CPTwnBa03"
    "2AzVZQL2F5QtBD487pWRVDGmtVbtU8KxjTAACqVaE8IVAjDqlJifLBH3+OOANGAzC5sHfg"
    "UYPiF1twDptFq/U98dc6unA0+PaPwkJtp8s9RxjpyMs9I94cqR0/Avcu7UBhKUoZW1uBeX"
    "ULkpR20MfTqBK6croBXTk9KdQn4TE845CWeLeXbkAFOoWNbky2d9ECr8AscyXyynqebRns"
    "jADZjLpMjOMeAFBOFDsrkTHFJx7buNmcYlL/A+EOqfgOsBwE3c3diClZHaKT54ycyKaEqM"
    "HEymc/lCsliIcN0SFrYUHXBpNApWJky8kXxXSIvqvJTMqSKjyZ6p5nLbO4yQbpH8SumAkp"
    "hBfmbjnCh8cgrBk6SlYO6N6gdwzBbYevrIhG7gTUSq+735ujNxzX1skKhOpaGnK5AxCm95"
    "AawIWtk2AfVGL5YImh4ttlgL9GDl7F4W+/+z3OA/ak+jiunFrdGdFQOjqrwvizcr6fFdiu"
    "k7J0HnEgTEcFDm8IOkgonnTcAQx6IweODKH201HafwMSJzQY4hSZ9s9ReXx11oC+j3Dk/V"
    "E7b0CWTmFlONaueNwET+/Fs71YRWP6poZKAME+WVh8YdUTSHJkj5RKdjhqNqYBit7eR4A/"
    "oSOwW2JkQk5hYcmUq9PVSR8l5ED1eCqt0Vm6cNIkuzOKnHQlfreAINXwpEtZpUSC6Ufme8"
    "in3j5MUbKY9EGyw+vMGLvMjBGzS+KVmeJkBadML9V6q0vmR7bFrQRS9EBMxFNZRikGhhHS"
    "zi67kNvCY9tinH09FYNX9NBsqc9tmTFycYD5lBeppO7szh/x8h/rWnnKenXqdBidg1OHGX"
    "Z7wM4A2hdm774wCgBOqg1Fn/CIWKJoFPmXIdUDrfRAmxZlXVqBVHveEMOdJevhqdWBDWvN"
    "s7FPMG3M8RS1usbZwXK+4kW7fc8OaYLocV8jyKpCTB408WYOPsvsUXTuLh2wtycm+IIO1E"
    "qPW0zD1WzDm4zDEqO8eLv68kqesjdA1c4RW+HY0Nwl4hBi25SJcn4gvjWzDA5l1faSlhKr"
    "fL4MPMbsgIMvGQ8hcAiKUrPH4TteOLUtA6U/ERHH9FxLElTYXrc7PudmFjWwPY5euM7YFy"
    "lbCTLraNwx4zIEX/muw7gv3j0ZJrFh8GwuPknXT2TnFQ1FSpfCkLfS46518TUEWOtsy9Jp"
    "Xbzx4aYTzu+Y+QVDmU44303Ceck20wJve2pszPM3u78+IqW/UEIeabf8zDvpEbs7NVtG3J"
    "JYLdd8rGC09NeNt9ksy/lRJcVLygtJmwHVNAOqKyX0dSzUzdPca/BB2wb3DrbVhbb3AWfv"
    "bIZ3BCmzL6VBg4yNWTqV+T0YDejVj0yan80Qz5cUJV+PkrLPLAfkfCQaiGg9nomJka3YJy"
    "5iAgeBAWzBBFRDCrp095idp/Pigzu+J03mREymblongLzem0ypcQPiGKvnTOWL0+5H3xDV"
    "jY4HCVk8TjNdRdpK1ZAWIyx3XO7oObuPCD2M0MRkX6ppZFTGthtJafW8vzJECiPdyvh9RY"
    "D3GKZoLaNSgVBdu7kygrQuaV/K+j45AFESBHajYc5S6vhClUdZVxd/CqNMwGDccNPO0x7M"
    "SA/YWFKRqiXKqBxlePuOZrW3K+T5rkEohSxYPLeP6yLbde54rq0ZtmxSTNTVduc9nn17jG"
    "FWTUBQwhidill7pMm0f1GHw5y1NDsHa1tLuzQGvmHvzl7tLz6WBzJm7g83GQYhT/9sxZlR"
    "OZbxd0A6IGT7d/IG/oQ8jgjbtrsE17QZv0XDKdBMCQKTMxwi6GgyWX49jtT6L/H9j2x/ZB"
    "85mUhKUHT1oJEzgpkuvOUgqY1lDhGm8WPuyYoiK7hKErnxXIoWFem1MTKswPo3FB+HZIsR"
    "CrggvEQkJFykI4e/GOEVIO9gDOgxTwi+YLONfdpkggwwLHD3rOdwcCJsGMTjK44iNiTwpS"
    "ZakeAH9gA4MZ5DsviRE38iO2nWFPAG7IVZh5YtfP/ESweh78B3sLeYlQd6is8fzzGd84kR"
    "PUEW6anNuGqacbMjWNmQmCVTGfZXBmxKr44arM6RaVZXYHWyWxYZvSE2IkXTm8CI1nLAwk"
    "EyhoNEslu7rk2wI2drhi7H1ikj7IqvyZXdqvivb24+ZPSr1+9ze/Kn3z6+fvf56JRPZ9bI"
    "Ckrs3pDrZszUKXj1GvtFjkxdYHqd0Ac7dElEalxvDuKPTzzXZ293FUkqkJHin8Rg/59ih+"
    "u/lh1IArpa6XGX5e3BYkMbRsWmKQ8HXEmG6OL89OQ0lprFeMHwQElaLuCiJROqlz5HPCwe"
    "lfdv4rsIwILSYX9cnz2GUkLPbAjjZSm17UW5Ya6RZqtLVOEtsa0H4q8GEkQhuTesgCaY6c"
    "Zb4YRbcIogTJe2iXkHhbBgsz8iD7zydTqfkeVZ7NqzoUgaty6XZZAidNBGpwATQD++u4R9"
    "ZulbQcDU/qPJhM36kJiTyTM0JTPXh0zfK2RgmJsL90Fgw5MJPF+o+0uLAwdMxKIkJmE73s"
    "gRNDxPuIugnoMbBoYLgADUBGNXjtE1Wrr+Pftxb9nsY5AZwjeKYC9GDZ0+ECp53MixsQc4"
    "An+sKCnhQJUHD1MKnio0EzHGPst23fvQg8+CN4rqP4ieA9YtO2L5hwOoMGJziK0/jmSvG4"
    "aMbX7ArvOaZ/mYNIP9zw1QQGy7QaVQeHXYwniSqfXle0u4s6c2Od4iGVq4qZ3QlUUvanqm"
    "PcYjbSfsHzBJhSYlPSHv2oZdR9Ri+fLxC1iKHiyT15mYTG7C4D3bXQqbWrtd71ih569a1x"
    "ExQ9RD3OT7Kl5n35d7nX1f8DrTud124NiXOlpqZI1YE/WQze07m8Une+WjIWrfQ+ZeVMEs"
    "LspBi4sCahFD0k1gbNWZzMGECEFIjIKWiaLSTXAmJpfjbCIFMKIm/a4zLJgm0znpmBIcOZ"
    "FUHcQipfJDKSxVwH4BBMZZL8QngOIi9M5joesdX799+/ndly/jNzefbt/9/ZbpM9IRbqfb"
    "3Qf6gChdHPHyCsBxezUKAMNjaxcAhuF6wDZTPZmybPsEmytwqFpAQHviiBWJMUzM9UObKa"
    "lHo8GfHDL8BvE4QnlmK5qjAgB0yWdFN4/Zc6FgD9/VrPt310+X+LPLKtIga1W+IC8L8mDo"
    "30mFwY1GtTWRtqjVsKhNcWDUcnNICNQNYhMeRBxaQwvhpUQFYAnII9fz4wKw/GueoSUGrJ"
    "Cn/RKORLxQoRWAK5BjUti0CptbZ0/ZsYLLX27M36g4D0pBuxzV7pwDTrva11p2DlAxKFBy"
    "TAjkfTeHRfvIQXlplG050WR81i4tiVGgwM/NFtEUmTaHKmcOzfos8UijeikNMkS9k2HbRx"
    "MifnEP4rpLKU97MG4sT3M5gWdZ3fS7GSJ1l9Mgq53DC3PhdcmN01G2BuFatk4cWND/63aw"
    "66UKY0F8362VsjpLpe4QNrU9VILZzjfAbOdFmE3E50X+AjV4nadTl9t8vvP3RBhdvDw5OU"
    "fw8cWAxw3tdp7PZkZ8EgWmVTe9pYgUH4719mOZ8ZYTaevoKLJJLOgdBCyBHeK19e/3Jelq"
    "Gve0c0f/2jnBH5sMfDfDCVyNPeHijN1XaDQYDSBTVHSHmKMBmCBGA6jqkFwqjOhjO9uxoi"
    "v8NhpEnKfoDkczGyznRGTk5++P5tjz2IuZV+L388B9LnwRMc8eBc6EwqmOfSl6juKPlnj8"
    "tNlxj8VanZfmSWgvtNmmQlvdU7R2qkMc9DAfeIjDdaTAb4h0uF7r+FsDHlJ4wPZ4h3dchu"
    "O++4G7LtksoIbIwrYOfILDH5sLy7Gg38D16XfsXLdMIg17aLnv7R762qteSa/6WFWonXgn"
    "R6gTvNcbkbSpr+4Zps8uRc+uXN5+iM+qg1akSFR2tVTGSF7XPKG+ZUIZQ59JAiwz8W0oMZ"
    "tQ9I69nVgNzNAXZSoXdZw8clTaz0Oaxm4/KsPPbP6HPrm2iS/VFzL3qygLM0EwxgnFVpXh"
    "OkHugVGQjowSFPVDocAxuPHNIUcCxPaCr/IcQm/ZTUhIdoWijJUQ1cw9/aBpUXno7CnSxG"
    "NxuA600qnGVBJiNwTr6pCs7kKy+EKowdy4vcrM5ZZIvmUc/Xb7Zogmk//H/nv+8ePzt29v"
    "//pXSDVgiZQu0eYh81xu2MdmsfW8ith6Xi62nsv8BWCjrHHsp0n6lOO2NfdOIX1KWLoh2m"
    "lNcuABT8LTQmzDIkVIFHQY+SKlT2fpmqnbwZ6DlMTqbZJHK02o8RPl8BNFBPn3ztT9GmUB"
    "lgnymftVBHkLCKoJ8DdMcrYt9g9beHFWYfDMcZ6zpyDe0RXC9hIS+UZ5hoYcsCcPUQ48Fy"
    "TnGM+nyHSL8ntXD6mSp6eQbqeQgwfCKXl2Hi3bKynb9zurxWAygezhVz9a5k8ildVkIoo0"
    "iCuFxVSh/Y59H01ihl4tZHRNoXC+pMnkR+HcdE9WP/3nx2RGMSZfQQlFcdMniUMb37tEnv"
    "Q5z4S2tIxiDof2ut0Cf1cq0PdiQ4G+FwUQsY9q9iDtf8rxpaPJxMCUHItsrjyd3lWU1i7A"
    "tnsXQpr7KPVTQbZt3NOu86xYgV0vyUpMoPJgKmPQmLpmrciwuH0PmXtZyZxxucGccVk0Zz"
    "Bx8r4Of+P26hqLxO5hOdZzz3fvfLxAHt9HeKkRjzhRlHt6j7GY9jx1Q3m8UPOudp+ogoZT"
    "SJhdZ0BTJAqPaSmfh2C24JqNb8xJ5OXEDgPIZk/jc+Pq9EyWI6itTnddEFX7QvcVSMmGze"
    "BmOefxwSWcfzLjqwhQ9mVBb7zgJpSau9c3hxUgMrqgY9cLxtGRV8XSnSq5ta6m7rg8SO1o"
    "FH5/cnIyCl9N8dmz43WZAGGL5hAXooFlQ7Jp31/BVctP0t3ITN5dP0670Go8TDnQpanHVO"
    "uYlvaS1YdXu4fXNfEtYy47uaI7G48tvG6z7agqH9iWt/ynst8/0mugfCd/YEc8vFKNfTxF"
    "0kOo6OzyshK4cLkBXLgsbOVsUdXgcNS8h9w9rQTEnW4A4k6LQBx7YiCVRco9YVIku/eE2c"
    "9B2Zpfyl4Ps2//H8EOr3Y="
)
