from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "catalog_department" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "code" VARCHAR(64) NOT NULL UNIQUE,
    "name" VARCHAR(64) NOT NULL,
    "level" VARCHAR(16) NOT NULL,
    "parent_code" VARCHAR(64),
    "region_code" VARCHAR(6) NOT NULL,
    "address" VARCHAR(200) NOT NULL,
    "hours" VARCHAR(200) NOT NULL,
    "phone" VARCHAR(32) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS "catalog_item" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "code" VARCHAR(64) NOT NULL UNIQUE,
    "name" VARCHAR(100) NOT NULL,
    "kind" VARCHAR(40) NOT NULL,
    "audience" VARCHAR(16) NOT NULL,
    "handling_mode" VARCHAR(32) NOT NULL,
    "fee_fen" BIGINT NOT NULL,
    "promised_limit_days" INT NOT NULL,
    "express_delivery" BOOL NOT NULL,
    "lead_department_code" VARCHAR(64) NOT NULL,
    "lead_department_name" VARCHAR(64) NOT NULL,
    "department_codes" VARCHAR(600) NOT NULL,
    "theme_codes" VARCHAR(600) NOT NULL,
    "search_text" TEXT NOT NULL,
    "published_version_id" INT,
    "is_published" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_catalog_ite_is_publ_983034" ON "catalog_item" ("is_published");
COMMENT ON COLUMN "catalog_item"."department_codes" IS 'every department taking part, as \",code1,code2,\" so one LIKE filter finds it.';
COMMENT ON COLUMN "catalog_item"."theme_codes" IS 'every theme, as \",code1,code2,\".';
COMMENT ON COLUMN "catalog_item"."search_text" IS 'lower-case name, keywords, full pinyin and initials, for LIKE search.';
COMMENT ON COLUMN "catalog_item"."published_version_id" IS 'id of the published ``ItemVersion``; a plain column, as a foreign key both ways would';
COMMENT ON TABLE "catalog_item" IS 'An item''s identity and the search projection of its current published version.';
CREATE TABLE IF NOT EXISTS "catalog_item_version" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "number" INT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "guide" JSONB NOT NULL,
    "created_by" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "published_at" TIMESTAMPTZ,
    "retired_at" TIMESTAMPTZ,
    "item_id" INT NOT NULL REFERENCES "catalog_item" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_catalog_ite_item_id_29a7ba" UNIQUE ("item_id", "number")
);
CREATE INDEX IF NOT EXISTS "idx_catalog_ite_status_2ab8c9" ON "catalog_item_version" ("status");
CREATE TABLE IF NOT EXISTS "catalog_theme" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "code" VARCHAR(64) NOT NULL UNIQUE,
    "name" VARCHAR(32) NOT NULL,
    "category" VARCHAR(16) NOT NULL,
    "description" VARCHAR(200) NOT NULL
);
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztnG1z2jgQgP+Kxl+unaGdhBCSu/uUpGnLNYGblOt1+jKOsAXoYkuuLZcwvfz3W8k2fi"
    "d2DlIg/hJA2rWlZ9did4XyQ7O5SSzv5SviYFfYhAntN/RDY9gm8Kagt4U07Dhxn2wQeGQp"
    "cQMLbPGJbqblR55wsSGvPMaWR6DJJJ7hUkdQzqCV+ZYlG7kBgpRN4iaf0W8+0QWfEDElLn"
    "R8/grNlJnklnjRR+dGH1NimamhU1PeW7XrYu6oth4Tr5WgvNtIN7jl2ywWduZiytlCmgbD"
    "nxBGXCyIvLxwfTl8ObpwztGMgpHGIsEQEzomGWPfEonpjvS4TdP1/mCovz8f6rpWA5DBmY"
    "QLQ/XU7CdyCC/a+52jzvFBt3MMImqYi5aju+DWMZhAUeHpD7U71Q92DCQU4xiqATbPYz2b"
    "YreYaySfIQtDzpKNOG4uWhvf6hZhEzGFj93OEo4fTq7O3p5cPet2nssbcnD+4Pnohz1t1S"
    "VRx2jVaw20kfxq0EYNMdv4Ud0BuBb5Tqw6dBcKO4h3v1sB7363FK/sSuOF1R7Wer3u6pBR"
    "exDqcAnYTNKrd2SXTGBEtUln1HbQqav4dLlL5zwam6ZLPK8O44TK4/HVtEeh297bq8AXpE"
    "oJq7404yn33VqEFwoN3yp8HWBUbz2OFHaO70G7At6Ddild2ZWGa7hEotCxyBN+BT2C2qQk"
    "Jk5pZlCboerL6M02LswwQXPArHn49bwE/bB3ef5+eHL5p7yd7XnfLMXvZHgue9qqdZ5pzS"
    "3ji4ugv3vDt0h+RJ8G/XOFl3ti4qo7xnLDT5ocE/YF1xmf6bByx5FE1BpRS1ndd8wHWj2t"
    "2Vh9U6weMUqYXY1e1hXGN4kkWDaMsHEzw66p53p4m5fJ5rvstp1twQxPlM0kXDnMsPLSE8"
    "TWCioyqr1VpRZDI8n7qjDaCUNS+BcPURPicirmCDMTiSlBHsGuMUWOy/8hhpRHfAzCHjJ8"
    "V8bwyPFHFvWmxETfieuBwEst4zVruHxTHWqqQ5uC9slXhx4pktuvFCnvL4mU9/OR8g1MrA"
    "7dSH7n6HaqwO2Us+3k0GLfpIQZtZw3qbNziFdffZvC16gFA9DtmutvTnHnYK8+7xsToo8J"
    "y2M+pZPSACKhdH8UsSrEe+uNIn5ttw8Ojtp7B93jw87R0eHx3iKcyHctiytOe29kaJGyQB"
    "RrJIoZLrepBwmURW0qdBPPC0pHpQYo0d4ZY/zPkC7GTG4dWcSEgVoUQu15gZ9zbhHMijkX"
    "qWcgj0B/XZQXLWsgvcyDB4OLVCp72sv4c/+vy9NzWNbVQgNCkAgV8we0ZmL7vHahv0x/51"
    "b2dewRptHVDbnL9Bv096LPOGytTYEi3c1FrhG5LKJ40EhgyCYmSH5uIeyhL1pLzmNf/W23"
    "vmjI44gzgi56787RmFqCuPDCTA9Rka+yrOH6y52hUj7WXZKPdfP5mJgSm9R3hYzaxnuBGm"
    "+xUcoMe5/K49sqqN3pgtwW1MSH0Fpsq4zaBtvK4jPivjCwR5CccwvdkPmMu6bXQmMYC3Io"
    "m1OmapmUUUHhjtDD3eCBCuaZN+fKrlo9TBmefxymwpTIrs8uTz4+T1XdLwb9N5F4wg/OLg"
    "an2bg8qszqYWVWr1VaLVN/UGT+OL8F0agpy9Oybh2Xpa+vZUX+QzCH6+vfEUaOBUZBwVTV"
    "E4ul/QidMGlrNOJiimaQiKAZ90MySQdZy12+MBvfEHVVMeNIbRbAOm873PMovEeCo2B/Er"
    "wOgTsSt3BZWXHWQT19McmaGUdWdW3ZRq6avP3JRrOHXR7xbuduZrOH/RStvoI97Ng9wu/h"
    "gsD7NNR8/e6KWFixzbtBYn86/J7aQj+4izw/ak0SXedWf4SsZMc/QbTaxn8UVSmNlR7D+K"
    "xFPyxgvj2Ctq/N1vtP3HoPjVAdbKzweEXwjeebyGoFFn6t4kOssa5cNuevmunisdjWbcuJ"
    "T4tq23+8H/SLCS8UspEHNQT6F0EOsI2euwSrRLE8Yc/m5pm4QV4gm7BHofuoYG9nyU91Ul"
    "qbW63ZmJJ2k1uVo9/OKLvJrZ6i1ctyq+IaaH27Z3VXYPkNOxK3vYbOP98u2MB9kJ3Tmo2V"
    "N9nKKnOul6bGGk06FaZTuepTGnCe7utg3+IdmSvIPRgRLv4VaOYQxJbBLasuQbOLZ4uKSd"
    "KpYO4wYxIU8q/Awa96Z8D455xJGco9aK2gRBV0tKoUp8RCtPnnINv0ULeW1KCa4x9P+PjH"
    "o8Fdw1FeQDHhRb91XeK7CZ0dhLz6al9yWDU4Z9R2rvC0soP/G3Je9YS41JgWBQdhz9LoAM"
    "cyTViwK2FBYguy6lOfUNnBxbV9eFjlmT88LH/mZV/mnB08VDUIh+I7SHctB0ThjiL8b4ZV"
    "d6sSKs1+Vc39qp/6ZXb3H33zhcA="
)
