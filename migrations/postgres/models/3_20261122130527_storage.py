from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "storage_staff_read" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "upload_id" VARCHAR(32) NOT NULL,
    "staff_id" INT NOT NULL,
    "request_id" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_storage_sta_upload__58b3b3" ON "storage_staff_read" ("upload_id");
CREATE INDEX IF NOT EXISTS "idx_storage_sta_staff_i_b6c549" ON "storage_staff_read" ("staff_id");
COMMENT ON TABLE "storage_staff_read" IS 'Every time a staff member opened an applicant''s file.';
        CREATE TABLE IF NOT EXISTS "storage_upload" (
    "id" VARCHAR(32) NOT NULL PRIMARY KEY,
    "owner_user_id" INT,
    "company_id" INT,
    "uploaded_by" VARCHAR(32) NOT NULL,
    "purpose" VARCHAR(32) NOT NULL,
    "item_code" VARCHAR(64),
    "material_code" VARCHAR(64),
    "case_id" INT,
    "filename" VARCHAR(200) NOT NULL,
    "claimed_content_type" VARCHAR(100) NOT NULL,
    "claimed_size" BIGINT NOT NULL,
    "max_size" BIGINT NOT NULL,
    "incoming_key" VARCHAR(300) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL,
    "object_key" VARCHAR(300),
    "thumbnail_key" VARCHAR(300),
    "content_type" VARCHAR(100),
    "size" BIGINT,
    "sha256" VARCHAR(64),
    "width" INT,
    "height" INT,
    "pages" INT,
    "reject_code" VARCHAR(64),
    "created_at" TIMESTAMPTZ NOT NULL,
    "completed_at" TIMESTAMPTZ,
    "attached_at" TIMESTAMPTZ,
    "deleted_at" TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS "idx_storage_upl_owner_u_967583" ON "storage_upload" ("owner_user_id");
CREATE INDEX IF NOT EXISTS "idx_storage_upl_company_ad7955" ON "storage_upload" ("company_id");
CREATE INDEX IF NOT EXISTS "idx_storage_upl_case_id_44f08d" ON "storage_upload" ("case_id");
CREATE INDEX IF NOT EXISTS "idx_storage_upl_status_78858c" ON "storage_upload" ("status");
CREATE INDEX IF NOT EXISTS "idx_storage_upl_object__48530c" ON "storage_upload" ("object_key");
CREATE INDEX IF NOT EXISTS "idx_storage_upl_sha256_3d5c65" ON "storage_upload" ("sha256");
CREATE INDEX IF NOT EXISTS "idx_storage_upl_created_a0f125" ON "storage_upload" ("created_at");
COMMENT ON COLUMN "storage_upload"."owner_user_id" IS 'whose file it is: a person, or a company (then ``uploaded_by`` is the agent).';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "storage_staff_read";
        DROP TABLE IF EXISTS "storage_upload";"""


MODELS_STATE = (
    "eJztXWtz2zYW/SsYfWkyo2Rs+dl0d2fs1Gm9ebjjOG2ndYeCSEhCTZEsAVpWu/nvC4AP8Q"
    "FKhEzKFI0vbUziUOS5IHjvwb3AP72ZayGbvL4K6Mh9uLhHDu29Af/0HDhD7B+y033Qg563"
    "PMkPUDiyRXvT9ZHhitYGSpqPCPWhya88hjZB7JCFiOljj2LX4bAzB4jWYO5jSpEDsAPoFA"
    "HCbgMwrEMYnLUFkIjj5hQ6E3ZmCikwYUCQBTB9zX/Lck32Y9iZ1HfZW+fW+cX175BPwAsI"
    "bEiRDzAhAXoJGAH4nv3pIcdiPxr+HLuYy6+HfcAuaNkcOMd0CnzEbg2R70DgUGzzJuJ+bp"
    "0IBk0zmAX8B8AU+YwnaPsIWgsGZMRayOoD4gLHpVP+WzC+X+g4buCY/G4JvwMf2C4J6Qgc"
    "/FeADOpOEPshn5Hy+x/sMHYs9IBI/Kd3Z4wxsq2M6bHFLyCOG3ThiWPneHLp0HeiLSd7ZJ"
    "iuHcycZXtvQaeukwBw2AMmyEE+eyz+C9QPeA9wAtuOek3cKcKbXTYJ7zKFsdAYBjbvRxwd"
    "3sDyWM8wPl3dGJ8vbgyjV+hjMSLVP6JDpuvw/slulQgCJvwWXn07GBwcnAz2Do5Pjw5PTo"
    "5O905ZW3G/xVMnX8ObWbIVXkpwdvnD5acbfkMuewnC14Qf+CowkMIQJYyxZJ+6HjaLBng7"
    "hb6c/gSQswB7tLwFYr5XmSA+8EQ2mMEHw0bOhE7Zn8eHK+j9+ez67Y9n1y+OD19mOf4UnR"
    "mIU5ztJbseXNgulHTw/36++iTnNwXJMWxhk4L/ARuTQl/fjOnlILkFqldQy8ngV54R8ped"
    "pvTFx7Nf82y//XB1LshhQ8/EF1cRFzjPUU8opAFR6dlLxNa6di8az3tb6d/7xxX69/5xaf"
    "/mp7IkQ/a1m3lUQnPp8J2GrB/E6+rYe80O4oP9w5PD04Pjw2TsTo6sGrLj4TlF6D3E4kEN"
    "SIukfs9YoXiGSpjNYfPDRwR+Hf9jBweRHndTrhx7Eb1MK7i9ufx48fnm7ONPmZHl+7ObC3"
    "5mII4uckdf5Pt+chHwy+XNj4D/CX67+nSRH4CSdje/9fg9wYC6huPODWil3vv4aMxaxvIm"
    "ezRmhw3snkVqq++S1SO/fiO757E1WD665bYYfkcMHXOy0tI2JNRAvu/6RTvfoIeSr2UW1Z"
    "RfUjRqrymPZJVJL369We0GJhb9cPXph7h53jf8+pWHmuO7VLjDD4ygeTeHvmUUzrgDt6xt"
    "8dRsMMsfgQ6cCBr5E/Pni8SM75EHfTorkTpSZ/srlQ4WudnuhFki036d1FFukJpD9ecSpz"
    "/SxSuPwE1mc5UwJW5fz2DwtNQ2HH6L/ytQG7ff3ji7w+Ta6B7ZKuwmgA7SW39ozUZ7NtYb"
    "qqNDDrYR1S3zApvuyD6asDtSZjoH62CnrtKny7t0USyyLOZPK0lyKUgHfN8su4O9vQr8sl"
    "alDItzWY6nbuArMZwANL9V+PUYR2rjcQzoHL8Hgwr0HgxK2eWnsuRqCayc+u5KYIFnbWj1"
    "LFJbvS1Wl+hh4u5bostcUjTrSRQZcbxfRYvBccsqCSe88TcEYIv55ZguAHSsMDkEQd+cAs"
    "93/0Rhdog7Zo0JMAOf+/DAC0Y2JlNkgXvkE9ZAmnhS8+W1OqTVobZQ++zVoS15cvuVPOX9"
    "FZ7yftFTvmMPpsJu3L5z7B5WIfewnNvDArUwsDByTKXOm8Z0juL61TeRT8luwJgpjr8FYO"
    "fIrj/uGyNkjJFTpHlVGmgK1Jk0oq3kgqbEDN+dYcICKBvPMDUsuFBJ5CpBd8YYteV0oQeP"
    "i5hGlK+xkPRz17URdOQ8y+A5kkcM3xTLyZHtJgOcX119yISy55f52f4vH88v2LAuBhrWiA"
    "VCcv4ZtVZq+lxZ6C/Dd25kb2KOMEudqstdhtfUr6U+12GVJgVk2PZS3uOlKAuwvGlA4R0v"
    "XOF/93nNzW2vz59jX/x30L/t8fIW10Hgw+X7CzDGNq+0GbN7ItLyngauv7ozVIrHjlfEY8"
    "fFeIxO0Qypd4UcrPW9QNyv3Chlhl0H2b6tQu3OoOhBoomXJwvmYC22le3Okf/KhAQB/sx9"
    "cIcWc9e3SB+M2b0ADzsL7AgtEzuYYvaL7Izrhy9U+JxFc9Z21SfIWcz45bEya0TKrKEkrZ"
    "bBN/LMt5ML0sMWl6e5br2UpYdDrsj/HD7DcPgdgMCzmVFA+KjijYXcfghPHG5rMHLpFMxZ"
    "IALmbhAxk+4gjfzKrTODd0hclc5dICYL2Dg/81xCMPs3L9IM5yd5WSgvr/Slw0rNUQcmRv"
    "KQihFHHtpYtFFQk3c/2NBz2OUe727OZuo57Odo9RrmsJfdI/oOSxzv8wj57v01sqHgttgN"
    "UvPT0XdqB/vB17jnx0fTjDY51R9TVjLjn2K02sR/7FUJRK1lGL/34sQCJ5iN2LE/9NT7E0"
    "69R0aoTuwSsD0RvPX87lpFvuXDMd3VactJgGXadvlqEwlArzXxiLUmYtd9JJnbWZGqk0G1"
    "V61pjaStY6ty6nfTy9ax1XO0ellsJddA1e2ex+qFEdpj6OL77TMbbLYARhaprdxmK4vIWS"
    "1MXSJ0OBWFUwX1KUtwkd134bzFe7QQJF+yO4LyLNBcEcSOkVumLrHDPpwnikm6U7FnZ0+M"
    "QiH/mnXw68u3jOOnqUm54XPQPYlEFZ7oVxGnaNJULw6ySy91f4UGpcs/nnH5x9bIbaCUl1"
    "ExcWW5riv6bgrTQZLrV/vSt6XAcw7WOeGptsL/ltSrvnVnHnQWMu8gPrXSP2B++ZSZf9lS"
    "uwddcQ8CYiot3h2375x7sH9aZXA9LR9cT7V7sN360HvkY3a5TXSfHLSDwm6XlB89a1P+mu"
    "2mfl9l1sZGE2gbPvLURL88TCt/65W/hLMa5L8vBO3i96qq/JfvXsoaYKoIf8K30ilSrpLR"
    "F7nvZxO0k/36SVL6MpyVh0QJp9XiIgNOqm8iBTzkE76bk0l5GRivIIEguhB4cRucIHN8Gx"
    "wNvkW3wSEawZf9cFsmYroe35XJR/euKboGryRDBKDxGJkUQApc9nZKlvnZxi/q2K5dsV1o"
    "uyKx5clcS8T2s7l6/xoHTrjO1CjANuum5DX/vf80pflsO8cLO/eYhpWQxhSSqUpsKMPWsj"
    "JviyLw+gX6iDX04GFmlw3iB+kFdJpAm4NFaJrI2yxazEG1ndtsZ+6Q3G2Y9JNGaiu32cpa"
    "+in/eHZX+olDKqWoIAvSso+kfiYgyFcjNYVocfF/W3S01BTpI1W01LTsjvXZqkJa9nXNyG"
    "hvzz6/Pfv+olfou9uTJ1vWb6uSmnpdW5Wc+A6a6Gcx5xZqSD2J7FZo018rvY0ZxLjPY9bK"
    "b1cOAr+gt3zvdH6FV+krgGh32T4giFIbWcBln1gwWgA38IE7d9hxnwFeEWwhwDqHvyiqbU"
    "38gBbX2iWuuQE1CPqL+TAqOk4W1bkkivolHPHqyD3BcpYzoM6RvD+olKoyWJGrMigkq7Sx"
    "tFqiEe/4budRx/SRJJwtHZGzIO2G6yWTtErALzHGzqb1nTmo1gDbrAFuX7Vo3UvcrGyx3d"
    "C6beQ+NrZO1IqnCa0/QocPUz1JRB2f6q8NpGeplhWyV8ZwhlnMGqF4+sghGg1ug6MDc8T/"
    "jQ7CVJKXb8BwKPJihkPWegHYbTAcTz4ZDj1mFRN70B4OZfkqjfyGDqLbFUSLYtqSFaXLs1"
    "SyqN3NVBEPAsSDiMVf475uunyBuO8Al4kW4N8gXGSaNy6+KJtd4okzYVgQRwxZyRn32uQ2"
    "T0FWeWu7+/2Rkc/dryJ1G3m8aZx2d9vs7oaWUlsILI3p3obt9eswWjAop767goHwEtUiyT"
    "REh5LSHcAiD1txh4EcTHO7PkxPONOx+rpYPd+9SibDC4ODZnYds+kBsVUpBj+J+hZos883"
    "PDNNRMI3KyeJSFr116ojXgQyRBwLl7C1UsmFCLvE1jH8s8r3DoEgvly04zZ7Pp9P/7OONR"
    "5HVTc8lGMAXrDD/rkAE3gvKeqp/epaHmmXPCKMpvZhTUOa+qjuHsUtn0zYZULHMWlVY9UE"
    "0MF1LupfBiscp1X4XSI6SHBtKzNlOWZPSuSR4Sqe06jOrYGlF1/XosumokshiH2akOAajd"
    "lzTG/cOyTNOM6cXx8G+GFz5h7H7StlGkcwIGChj05YAMFnj8I5Tr5hIHMyrKgF5WnDpjtD"
    "BHAaQFiuFk7vhAB5wnFDv6NjgnbFBMJ4yvXjWVTnUmLr/1iFb4CSX5sgtrbV0A77tSQY/Y"
    "lMiSewIuF4CdEMr2cYBhZGkVRZleI0poPRQ/0TiZsvLVH7mhJto35HfNiqKagbbR9EdM7F"
    "TthXLybxHKysBYjy76QWIBoQID7zyZieRHkIT/TXSg4kaVchK1s0BjPEt5Dl8b/rIGAhD/"
    "p0hhzaB1En5rOB0AHQmvEiGHZV6vqyBOzHXk4LB+0SDvg8luqS5GmMFg3WigZ6xfcGyV2O"
    "PYbqnkYSaPcUhPoZ911brTAjAexuTUYdjnEjNRN84d57Sa8/dxnp0CnRcxJQziIjhmrKFP"
    "ErsF3Sz6+uPmRIP7+8yVH95eP5xfWLfWEB1giHiWvFlAbXQ47aXPASoRdlXTeqjNhjbbYI"
    "bhHZWrZ7d2jBfGN+n9x35nNqzH9+xaPDeGUg/jR8KW7+QH3mQltgPkUOwJR53q5HwNz179"
    "j5omte76WfzPqbS6dl19Dqyy6oL2qVTVmUzrLRWTaPoL5bIldmgsKzNrR6Fqmt3harS8bU"
    "ZGeUFkibosxFomzG5S9rhM14yZEquqaJKf4bOW+EAhl5OKHDHfo/mACuPb7yfHfiQ0mN/G"
    "aX0Pplu/TLrUdlLaO3Yb+BPaWryG8K0lDReZcIjpIxDRa+GchR2nRVAm2vJ9zjEWk0xsYJ"
    "qOzG+4Ddub/g+2u84ZGow5ckATaC91HOabjsbXH0fvzlnqKiANr83+xn7pGkXvfzDNp26R"
    "ehiN5eefRes1+Hg8HJcfJh4H+s+iZ8/nj24UNRnuP0GKpTLRlQe1+e1oxW2DKcgE/9qo5V"
    "BWD31iNpZMhY8qa8N1gB2VpZtDXd22P8INWunQHpbl2pW4ecqXbpLEo7lxVkdZ9F1fEKaE"
    "X9p0xIT6Meua5ay/r2CoYly6oR9KDmkD900o/Yr5IfX54eX3SDJzxsUU3XyME6x3KVKoTy"
    "IoRCDYK9H+2BspH+W0TrabT2SL5Fpd8ePMraBbS2dputrWfzysfU3ZzX0bN5z9HqNczmpd"
    "0qj/0qcrihw230sCxP8zy6zLv318hOtkd7LvsNZpMn2UOZdZF0Fq8UuJOfxdVEFXbUeyRl"
    "sk39utjBonXXiTFFstWwVChL7drQaaYm+B5JFrZ65lQ1Xo52zb6fvbKSNHGyvyp7g1D2bZ"
    "ygsDLN8OP2FVfCFEmqMFda5jHTWaKGzPNsNk449BsCxtguXfFyg6voZI52JXMEnu1CS3HF"
    "tQyoewU8DSyyotcPrXu5S71WoM5i1hFw90r1v4hvi8wxis5U8oqCZdt1HlG5vWv2VVYlDt"
    "Q3GrUoW6Cu7+iKVNQ5I8dQX0q6gGtoM986CtjmU5cg4UDz9DpM3iRry/eB67M/QuVpAV5Q"
    "Xls2HIZ9X5TqDIcMILLwxHYBL4uOfO1Xb3qH4fB21MydBbXX1k/mTKWMqh4HPEFR2M4NYa"
    "k8nMBnH2ulafgURFNcgeJkW0qlb3Aa1L2csvojgxljwsfQVma6ANRsV4jDIEGKH70lQn/x"
    "JLtlMGMppq6nMR0ciBtJOzVtyKJ7Pj3qUL7sjyBMgfMyfAf536/E//4K/vfL+Sf4b9maNX"
    "hSPn7kkF3aGfDbweDg4GSwd3B8enR4cnJ0upeMJ8VTqwaW88sf+NiSsUdxsOFmVjdAGqXJ"
    "35h87LDwj90WL9pTcghzuO7JM5XGm4MV481BcbwhFNJAkquwIoU7QWxtJqnnIbEuz3ZE+f"
    "oXO3fF+vuqHTqL6lwtRyPdmU6D2ciB2FYluwDsXpDTCOEb+4l1+IetprsR91DdK3mUR9I2"
    "gp/EISFTODg6VvpEJojOjdr1KyVzbFFJjWNph07ad6hH1yaTTBGeTCVT/6VsLgGaziKdHp"
    "zIcp9L2UzaazJlGUDCn1UvaszAuucoPPckoK1+zLqVA5SfabfRhmbPYXVtY3vKnYqWhpRC"
    "c7qRoXNQbec229lCm77PWaS2ctus3JLczTPkY3Pak+RuRmf6K9cjXbZpTc6mri95ZH3JPf"
    "JJVDpW1UFPQTo4yzs4Oqoyy350VD7Lzs/l9iRhL5UCw1HzDrLbzBx6qC0XGS7fgCcF2f4W"
    "PE/zoaxts50n/Zh9/T/6VLXz"
)
