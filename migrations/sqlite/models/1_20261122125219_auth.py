from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_personal_data_access" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "staff_id" INT NOT NULL,
    "user_id" INT NOT NULL,
    "field" VARCHAR(32) NOT NULL,
    "reason" VARCHAR(200) NOT NULL,
    "request_id" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* Every full read of a personal identifier by staff, with the reason they gave. */;
CREATE INDEX IF NOT EXISTS "idx_auth_person_staff_i_fa5b00" ON "auth_personal_data_access" ("staff_id");
CREATE INDEX IF NOT EXISTS "idx_auth_person_user_id_486f6d" ON "auth_personal_data_access" ("user_id");
        CREATE TABLE IF NOT EXISTS "auth_refresh_token" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "family" VARCHAR(32) NOT NULL,
    "subject" VARCHAR(32) NOT NULL,
    "audience" VARCHAR(16) NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL
) /* One refresh token of a session family; a used token that comes back revokes the family. */;
CREATE INDEX IF NOT EXISTS "idx_auth_refres_family_134b22" ON "auth_refresh_token" ("family");
CREATE INDEX IF NOT EXISTS "idx_auth_refres_subject_97174e" ON "auth_refresh_token" ("subject");
        CREATE TABLE IF NOT EXISTS "auth_staff" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "username" VARCHAR(64) NOT NULL UNIQUE,
    "name" VARCHAR(64) NOT NULL,
    "department_code" VARCHAR(64) NOT NULL,
    "roles" JSON NOT NULL,
    "active" INT NOT NULL,
    "openid" VARCHAR(64) UNIQUE,
    "bind_code_hash" VARCHAR(64) UNIQUE /* keyed hash of the one-time WeChat binding code, and when it stops working. */,
    "bind_code_expires_at" TIMESTAMP,
    "created_by" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
) /* A staff member of one department, created by an administrator. */;
CREATE INDEX IF NOT EXISTS "idx_auth_staff_departm_ad8e0f" ON "auth_staff" ("department_code");
        CREATE TABLE IF NOT EXISTS "auth_user" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "openid" VARCHAR(64) NOT NULL UNIQUE,
    "unionid" VARCHAR(64),
    "session_key_enc" VARCHAR(200) NOT NULL /* the WeChat session key, encrypted: it never leaves the server. */,
    "realname_level" SMALLINT NOT NULL,
    "real_name" VARCHAR(64) NOT NULL,
    "id_number_enc" VARCHAR(200),
    "id_number_hash" VARCHAR(64) UNIQUE,
    "phone_enc" VARCHAR(200),
    "phone_hash" VARCHAR(64),
    "birth_date" DATE,
    "sex" VARCHAR(1) NOT NULL,
    "region_code" VARCHAR(6) NOT NULL,
    "l1_verified_at" TIMESTAMP,
    "l2_verified_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
) /* A citizen: one WeChat openid of this mini-program. */;
CREATE INDEX IF NOT EXISTS "idx_auth_user_unionid_65fa3d" ON "auth_user" ("unionid");
CREATE INDEX IF NOT EXISTS "idx_auth_user_phone_h_27cb78" ON "auth_user" ("phone_hash");
        CREATE TABLE IF NOT EXISTS "auth_company" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uscc" VARCHAR(18) NOT NULL UNIQUE,
    "name" VARCHAR(100) NOT NULL,
    "verified_at" TIMESTAMP NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "legal_rep_id" INT NOT NULL REFERENCES "auth_user" ("id") ON DELETE RESTRICT
);
        CREATE TABLE IF NOT EXISTS "auth_company_agent" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "scopes" JSON NOT NULL,
    "invite_code_hash" VARCHAR(64) UNIQUE,
    "invite_expires_at" TIMESTAMP,
    "accepted_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "company_id" INT NOT NULL REFERENCES "auth_company" ("id") ON DELETE CASCADE,
    "user_id" INT REFERENCES "auth_user" ("id") ON DELETE RESTRICT
) /* A person acting for a company (经办人), with scopes; revocation takes effect at once. */;
        CREATE TABLE IF NOT EXISTS "auth_face_verification" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "out_seq_no" VARCHAR(64) NOT NULL UNIQUE,
    "verify_id" VARCHAR(128) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL,
    "verify_ret" INT,
    "created_at" TIMESTAMP NOT NULL,
    "finished_at" TIMESTAMP,
    "user_id" INT NOT NULL REFERENCES "auth_user" ("id") ON DELETE CASCADE
) /* One WeChat face-verification attempt, settled only by our own server-side query. */;
        CREATE TABLE IF NOT EXISTS "auth_mandate" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "item_codes" JSON NOT NULL /* item codes the mandate covers; empty = every item. */,
    "ends_on" DATE NOT NULL,
    "ended_at" TIMESTAMP,
    "ended_by" VARCHAR(16),
    "created_at" TIMESTAMP NOT NULL,
    "agent_id" INT NOT NULL REFERENCES "auth_user" ("id") ON DELETE RESTRICT,
    "principal_id" INT NOT NULL REFERENCES "auth_user" ("id") ON DELETE RESTRICT
) /* A family mandate (亲友代办): ``agent`` may apply for ``principal``. */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "auth_face_verification";
        DROP TABLE IF EXISTS "auth_company_agent";
        DROP TABLE IF EXISTS "auth_personal_data_access";
        DROP TABLE IF EXISTS "auth_refresh_token";
        DROP TABLE IF EXISTS "auth_user";
        DROP TABLE IF EXISTS "auth_company";
        DROP TABLE IF EXISTS "auth_mandate";
        DROP TABLE IF EXISTS "auth_staff";"""


MODELS_STATE = (
    "eJztXWlz4zYS/SsoftmZKs3USD4z2d0qeeJJvOMjZStHJU7REAlJiHmFBG1rs/Pft8FDvE"
    "CJlCmZovFlRgbRIPC6CXY/NMC/FdPWieG9/4442GUmsZjyEf2tWNgk8ENwtYcU7DjJNV7A"
    "8NgIqmuYYcOeqnq2/thjLtZ4yxNseASKdOJpLnUYtS0otXzD4IW2BhWpNU2KfIv+5ROV2V"
    "PCZsSFC7//AcXU0skT8eI/nXt1QomhZ7pOdX7voFxlcycoO7PY56Aiv9tY1WzDN62ksjNn"
    "M9ta1KZh96fEIi5mhDfPXJ93n/cuGnM8orCnSZWwiykZnUywb7DUcMdqUqao6uXVSL05Ha"
    "mqUgMgzbY4uNBVLxj9lHfh3aC/f7R/vHe4fwxVgm4uSo6+hrdOgAkFA3guR8rX4DroMawR"
    "YJyAqoHOi7B+mmFXjGtcP4csdDmPbIxje6E18ZNqEGvKZvDn4f4SHH8eXn/6YXj95nD/Lb"
    "+hDcYfPh+X0ZVBcIlDnUAb/F8D2rh+M9DGBQm2yaPaAXAN8kCMOuguBDoIb/+wArz9w1J4"
    "+aUsvDDbw1yv1p0dcmJrQR1NAe1EunlDdskUelQb6ZxYB426ik2Xm3TBorGuu8Tz6mCcEt"
    "kevoqyFXQHHz5UwBdqlSIcXMtiPLN9txbCCwGJbxV8HcCo3nwcC3QO371BBXj3BqXo8ktZ"
    "cDWXcChUzIoIfwdXGDVJiU+ckcxBrUei7+MfuzgxwwD1K8uYR6/nJdCPzi5Ob0bDix/57U"
    "zP+8sI8BuOTvmVQVA6z5UWpvFFI+iXs9EPiP+Jfru6PA3gtT02dYM7JvVGvym8T9hntmrZ"
    "jyrM3IknEZfGqGW07jv6mlrPSkqtt0XrMUYptQe957zC5D4VBPOCMdbuH7Grq4Ur9sAuq1"
    "u8ZA7MfAm28DTQGQeXdzNiXs4YMRUBIxOU96pwMTSuuYqFUYYW4pX/4SGqg19O2RxhS0ds"
    "RpBHsKvNkOPafxKN10f2BCp7SPNd7sMjxx8b1JsRHT0Q14MK75Wc1WygeckOSXaoLdC+en"
    "ZoS55cv5Kn3F/iKfeLnvI9DKwOunH9zqG7XwXc/XJs9wvQYl+nxNJqGW9apnMQN8++zeA1"
    "akAHVLPm/FsQ7BzYzcd9E0LUCbGKMJ/QaakDkRJa7UU0BfGHzXoR3wwGe3tHgw97h8cH+0"
    "dHB8cfFu5E8dIyv+Lk7HvuWmQ0EPsaKTLDtU3qQQBlUJMyVcdzAXVUqoAS6c4o45kuXQIz"
    "eXI4iQkdNSi42nOBndu2QbAlxlkkngN5DPKbQnlRsgGkl1nw1dV5JpQ9OcvZ8+VPFyenMK"
    "0HEw1UgkBIjD9Aq6eWz2sT/WXynZvZN7FGmIWurstdJi+hXwl9zmBrLQqIZNsLuUL4tIiS"
    "TiOGIZqYIv53D2EP3So9Po5+8O+gd6sgz0a2RdD52ZdTNKEGIy78Z+keoqzIsmyg/eXGUC"
    "keO1wSjx0W4zE2Iyapbwo5sdZbQdBfsVLKFLtKZPu6Crk7lZEnASc+glKxrnJiLdaVYT8S"
    "952GPYL4mHvonswfbVf3emgCfUEOtebUCrhMalFG4Y5wxXbDByocZ1GdjbVa3U0Znf46yr"
    "gpsV7fXAx/fZth3c+vLr+Pq6fs4NP51UneL4+ZWTViZtVa1GqZ+Fqe+XZyQRSqc3qa89YJ"
    "LX13xxn5n8Mx3N19izByDFAKCocaPLGY64/QqcV1jcY2m6FHCETQo+1HyKQNZCN3ubVMfE"
    "+CVtmjjYLFApjnTcf2PAq/EbNRuD4JVofAHIkrnFYajjqopy4GWTPiyItuLNoosMm7H2zI"
    "Nexyj3c3VzPlGvZr1HoDa9iJeUTvYYHjfRJJfv5yTQwcYFs0g9T6dPSe2kE7+BpbflyaRn"
    "STS/0xZCUr/ilEqy38x15VINHoNozflTixwPLNMZT9IZfeX3DpPVJCdWATge2R4K3HNxXV"
    "Msz8WuRDIrGpWLZgr4ru4gnb1WXLqU9F3PZ/bq4uxQgvBPKeB9UY+h+CGGAXLXcJrByK5Q"
    "F7PjbP+Q28gXzAHrvuY8HazpJUnYxUe9ma1lDaMrYqh343vWwZW71GrZfFVmIOtL7e87IN"
    "aL5lW+J2V9HF59sFHbhr6TkrKbXcZi0HkXO9MDWRkOFUFE4V2KcswEV0P4frFl/IPAD5DH"
    "qExVmguU0QOwZuGbsExS5+XDAmaaOCscOISUjkX4OBX599AoxfZk/KiK9BKwKKKrzQq0JO"
    "sUVVeTjILj3UvSUclNz+8Yq3f2wN3A1s5QUoprYo13WJ7aZkOghy82xfuls1cM6JdY54am"
    "zjf0v2q36yTQdbc5F3EF9a6h+AXz4D9Sc1pXvQFffA9zStzqMf1++ce9A/rjK5HpdPrsfS"
    "Pdju/tAH4lJobh3eJyfaQWK3S8yPXLUpf8x2k7+vsmpjkCk2VJc49Ui/vJhk/lYzfwvMGq"
    "D/fvLILr6vqtJ/efOqzQGmNuEDROyZGX2R+z6ckp206xdJ6ctgVh4SLTCtFhepeFr1ZGVl"
    "iBzieraFoBbfBsZ3kGAUNYTe3PpHRJvc+geDb8itv0/G+G0PPVI2Q55mw4P9LXLJg60Fps"
    "F3khEPkcmEaAxhhmx4OgXH/GzjjjK2a1dsF+quCGx5Mlcisf1sLuWfE98Kz5ka+9QAM/Xe"
    "8/v9e1Ocz7ZzvKj1QFm4E1KdYW9WJzYUyTZyMm+LIvDmCfoINfLkUNDLGvGDsAGZJtDmYB"
    "FrGnHWixZzolLPbdYzd0ju10z6SUtKLbdZy5L6KX95dpf6iUOqWlFBVkjSPoL9M75H3Hqg"
    "piRavPm/LTxaaon0mSxaall2x2y2KpGWfVwzNNqn4c2n4XenSsF2t0dPtsxuq4KaelxblZ"
    "z4GWvk52DNLeSQFAHtVqjTW0m9TUBEfcjLrKTfriyCfiEQbDPEW3iXbgFhxojpsB7yCGMG"
    "0ZENr1g0niPbd5H9aEG5CwLvPKoTBMbhzots2yZuIMm1dpFrts9Uj/wFPkwdHicr1bkkiu"
    "YpnODREXuC5ShnhDoHcn9QKVVlsCRXZVBIVmnj1moBR+wQS+dIbQfoxvMtI8N0iSCcLZ2R"
    "s0LSDZdHJkmWgDcxoda6+ztzopIDbDMHuH3WonUP8WZpi+2G1m0D97mx9YKteJnQ+gJbfJ"
    "pSBBF1fKm3MpA2UzUrZK9MsEkhZo2kePrIPhkPbv2DPW3Mf5O9MJXk7Ud0dxfkxdzdQe05"
    "gm6AHE8+ubtzQCsadbBxdyfKV9nIPWQQ3a4gOthMW3KidHmWSlZqdzNVgoGgYCDB4a+xrW"
    "s2PyDuW8Rpojn6FwoPmeaViw/Kek28cCYMBHGeKtpyxr02sc5TIsu8td19/4jA5+5XEbq1"
    "PN60nHR32+zuhpqqdxBYWqZ7H2xvnoeRhEE59N0lDAIvsV4kmRaRoaTwC2CRh13zCwM5MY"
    "nt6jB9gZmM1VfF6nnzKlkML0wOEtlVyKYnxFalGPwY7G/BBry+8VDTiBc+WTlKRFCrt5Id"
    "cSIhNYhjcSK2kio5DcKu4NMx/LXKvx2CUdxc9MVtGJ/Ll//BsCaTaNcND+VAgG/YgZ9zNM"
    "UPgk09jbcu6ZF20SOB0uq9WNMim3qp7h7ELV9M2GVAJzFoVWPVhUAHz7lo/hiscJ6ug28i"
    "0UGAGzuZKYsxjNQTR4bLcE5Lde4MLHn4uiRd1iVdCkHsy4QE12QC45iN7HsizDjOXF8dBr"
    "hhdXCP4/qVMo0jMRSIhT66BwEEXz0K1zj5BwPBydCjGoynDWu2STzEYUDhdrVweScUECcc"
    "b+g+MiZoV0wQKK/2/vGsVOdSYpt/WYVPQC2/diGxtU8N7bBf6/njP4km8ASWJBwnIhLh1Q"
    "hjX6ckoiqrQpyW6WD00PxC4vpHSzR+pkTboN8RH7ZqCupanw/yZM7FTuhXHibxGrQsCYjy"
    "96QkIDZAQNzwxRhFwDyEF3orKQdvUa9CVnZQGZmEf0KWx/+2RZBOHOwyk1ishyIj5quB2E"
    "JYN/kmGGiV2a4oAfu5zUnioF3EAV/HqnskeVpGkgYrSQN54vsGwU3mHrXuN40Eot1jEJpH"
    "3LWNehszFgK7uyejCcd4I3sm+MG9DwKrP7EBdGyV8DkLoZxGxiC1KVXEj8B2QT+5ujrPgH"
    "5yNspB/dPFyen1m36gAahEw8S1YkqD7RCr3lpwIiEPZV01q4xhWOsdgluUbC3ayj2Zg2/M"
    "+8l9Z76mBv7zOx4dxicD8dHwo7j5gHrgQuvocUYsRBl43rbjoUfbvYfrRde82aZfTPvrU6"
    "dlbUj2ZRfYl3o7m7JSMstGZtk8A/pukVyZBQpHX1PrWUmp9bZoXTCnLr6M0gJqM9jmImA2"
    "4+0vK4jN+MiRKrymRhn9L7E+Bgxk5OGEDnfo/1APce7xnePaUxcL9siv14TkL9vFX249Km"
    "sZvBv2G2CUdk18UyIb2nTeJYCjZEwVwjeVWLU+uioQba8nrPCINJpj4wRU6HgPQc/dOf++"
    "xkceiVr8SBJkEPwQ5ZyGx94WZ+/nN/cSOwqwwX/DbR6IYL/ujYkNo/SNUJTe3vboD5t9O+"
    "wNjg4XLwb+x7J3ws3F8Py8SM9xeNS6Sy0ZofY+PK2ZraiuWj5f+q07VxUEu3ceyUamjAS3"
    "2t8GK0i2lhZtjXk7gA+pa9oZIWnWlcw6xKyuSWelpHNZgVZ3IaqOT0Ar8j9lRHpa6pnnqr"
    "XMtpcgLDhWzSNP9Rzyp076Ef0q+fHl6fFFN3jKw5a66Ro5sc6hXGUXQvkmhMIeBKMffQNl"
    "Lf63KC2X0dpD+RaZfmPwLG0XpKW226xtuZpXPqfu5rqOXM17jVpvYDUv7VY5cFdicUWHn9"
    "GjojzNk6iZz1+uibH4PNpr+d5gNnkSBqU1BdIwPilwJ1+Ly4EqfFHvmZCJPurXRQOLzl33"
    "1BkRnYZVB7LUVxs6jdSUPhDBwVavHKpN5mwM4UHUZoogayO60luat5HUWZW0UQ6DTKpoV1"
    "IF/0oErXe+XEqkg/uWBgcHVUjwg4NyEpxfy+3dgIeqBsJR9Q6i26+0xNBfssTQLy4xwB2Z"
    "8Ozm8o1KKZHtb1V6GeqjsU1JL5qA+PX/adAfHg=="
)
