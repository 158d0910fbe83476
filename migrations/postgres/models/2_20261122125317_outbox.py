from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "core_outbox_event" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "topic" VARCHAR(64) NOT NULL,
    "payload" JSONB NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "available_at" TIMESTAMPTZ NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "delivered_at" TIMESTAMPTZ,
    "last_error" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_core_outbox_topic_87fe6a" ON "core_outbox_event" ("topic");
CREATE INDEX IF NOT EXISTS "idx_core_outbox_status_f0a8a5" ON "core_outbox_event" ("status");
COMMENT ON TABLE "core_outbox_event" IS 'An event written in the same transaction as the change that caused it.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "core_outbox_event";"""


MODELS_STATE = (
    "eJztXW1z2zYS/isYfblkRslE8mvTu5uxHaf1xY47jvsyrTs0REISagpgCNK2rpf/fgu+SH"
    "wBJVKmZIrGl8QisSD57BLcfbAL/N2ZcIvY4u2l7w344+k9YV7nPfq7w/CEwB+q013UwY4z"
    "PykPeHhgB+1N7hKDB60NMms+EJ6LTdnzENuCwCGLCNOljkc5k2JHDAWt0YNLPY8wRBnyxg"
    "QJuA0EskyAOLRFWATHzTFmIzgzxh4ysS+Ihaj3Vl7L4iZcjLJRfd3esBv2K3fviCvQK4xs"
    "7BEXUSF88hoBAPQefjqEWXDR8HLQGZf9URdBh5YtBR+oN0YugVsj4nvkM4/asklwPzcsEs"
    "Om6U98eQE0Ji7ghG2XYGsKggCsRawuEhwx7o3ltXB8v5gx7jNT3q2Qd+Aim4sQDp/Rrz4x"
    "PD4icCEXQPnjTzhMmUUeiYh/OnfGkBLbSqmeWrKD4LjhTZ3g2DEdnTHvY9BWgj0wTG77Ez"
    "Zv70y9MWczARpawIgw4sJjySt4ri8tgPm2HVlNbBThzc6bhHeZkLHIEPu2tCMpHd7A/FjH"
    "MD5fXhtfTq8No5OzsVgiYR/RIZMzaZ9wqyIAYCRv4c13/f7OzkH/3c7+4d7uwcHe4btDaB"
    "vcb/7UwbfwZuZohV0FmJ39cPb5Wt4Qh5cgfE3kgW+BDPZwKBUoY46+xx1q5hVwMsauGv6Z"
    "QEYD8GhZDcR4L1JBfOCZdDDBj4ZN2Mgbw8/93QXw/nJ0dfLj0dWr/d3XaYw/R2f6wSmJ9h"
    "xdB09tjhUG/p8vl5/V+CZEMghb1PTQ/5BNRc7WV0N6PkhuAOoF0EowZM8TIb7aSUhfXRz9"
    "lkX75PzyOAAHhp6RG/QSdHCcgV542PNFFcueS2zMtDvReN7ZiH339kvYd2+/0L7lqTTIGL"
    "52E8dTwFw4fCdFlg/idRn2u/UO4v3e7sHu4c7+7mzsnh1ZNGTHw3MC0HtMgwc1sJcH9QOg"
    "4tEJKUA2I5sdPiLht/EfWziIdKSbcsnsafQyLcD2+uzi9Mv10cVPqZHlw9H1qTzTD45OM0"
    "dfZW1/1gn69ez6RyR/ot8vP59mB6BZu+vfO/KesO9xg/EHA1uJ9z4+GqOW0rwJjwZ6WEHv"
    "aUmt9W3SeuTXr6T3rGwNmo9uuSmK3xJFx5gs1LSNhWcQ1+VuXs/X5LHga5mWWpdfkldqZ1"
    "0eySKVnv52vdgNnGn0/PLzD3HzrG/47ZsMNYd3iXBHHhhg8+4Bu5aRO8P7vKht/tSkP8ke"
    "wQyPAhjlE8vni8iMD8TBrjcpoDoSZ7sLmQ6I3Gw+Ak2k2i+jOooVUnOo/lLi9Ce6eMURuA"
    "k6rxKmxO3rGQyeF9o1h9/B/xWgjdtvbpzdYnBtck/sKujOBFoIb/2hNYz2MNYbVUeHjNhK"
    "UDfMC1y3IbtkBHdUGemMWAuNuoxNF5t0niyyLPCnK1FyCZEW+L5pdPvv3pXAF1oVIhycS2"
    "M85r5bCeGZgMa3DL4OYFRtPI4FWofvTr8EvDv9QnTlqTS4mgIrhr69FJjvWCtqPS2ptd4U"
    "rSv4sODuG8LLnHlk0lEwMsHxbhkuhsYtyyScyMb/EIha4JdTb4ows8LkEIJdc4wcl/9Fwu"
    "wQPoTGApm+K3145PgDm4oxsdA9cQU0UCae1Ny9Zoc0O9QUaF88O7QhT65XylPuLfCUe3lP"
    "+Q4erAq6cfvWobtbBtzdYmx3c9Bi36KEmZWMNynTOojrZ9+CfEq4AWNScfzNCbYO7Prjvi"
    "EhxpCwPMyL0kATQq1JI9pILmiCzHD5hAoIoGw6oZ5h4WmVRK4C6dYoo7acLvLoSBLTiPI1"
    "pgo759wmmKlxVolnQB6A/LpQnh3ZbDLA8eXleSqUPT7Lzvb/fHF8CsN6MNBAIwiE1PgDtF"
    "Zi+rwy0V8k37qRfR1zhGnoqrrcRfIa+qXQZwy20qSASra5kHdkKcoUzW8aefhOFq7I311Z"
    "c3PT6crn6AX/9rs3HVnewhlB52efTtGQ2rLSZgj3JJTlPWvof7ExlIrH9hfEY/v5eMwbkw"
    "mpbgoZscZbQXC/aqUUKXaZyOZ1FXJ3hkceFZx4cbJgRqzBurL5A3HfmFgQJJ+5i+7I9IG7"
    "luiiIdwLciibUhZwmZRRj8IV4Qx3wxcqfM68Omvr9RlyFlN+eczMGhEza1SiVovEV/LMN5"
    "ML0qGWpKclbz2npW9vJSP/S/gMt7ffI4wcG5SCwkcN3lgs9UfoiEldowH3xugBAhH0wP0I"
    "maSBrOUqN2yC70jQq/fAUTBZAOP8xOFCUPhbFmmG85OyLFSWV7rKYaXmqIMKY/aQFSOOrO"
    "jaoo0cm7z9wYaewy72eLdzNlPPYb9Erdcwhz03j+g7rHC8jyPJj5+uiI0DbPNmkJifjr5T"
    "W2gH32LLj48mEV3nVH8MWcGMfwLRchP/sVcVSNRahvFHJ04sYP5kAMf+1FPvzzj1HimhPL"
    "Bzgc2R4I3Hd9sq8i0XD71tnbYc+VTFbRevNjET0GtNPGGtidh1Hyjmdhak6qSkmsvWNIbS"
    "1rFVMfTb6WXr2Oolar0otlJzoNX1npXVCyM0R9H599sFHay2AEZaUmu5yVoOIudqYepcQo"
    "dTUTiVY5/SAOfR/RjOW3wi0wDkM7gjrM4CzRRBbBm4RewSHHbxw4wxSRoVPDs8MQmJ/Csw"
    "8KuzE8D4eWpSruUcdEdBUYUnumXIKW/WVC8Osk0vdXcBB6XLP15w+cfGwF1DKS9AMeKqXN"
    "cFtpuQaSHI9bN9yduqgHNGrHXEU22F/w2pVz3hEwezqco7iE8t9A/ALx+D+ucttXvQFvfA"
    "F2alxbvj9q1zD3qHZQbXw+LB9VC7B5utD70nLoXuVuF9MqItJHbbxPzoWZvi12w7+fsysz"
    "Y2GWHbcIlTjfTLimnmbznzN8OsBvrvZ0G28XtVlv7LmldlDjBRhD+SW+nkIa+S0Re570cj"
    "spV2/SwpfSnMikOiGabl4iIDj8pvIoUc4gq5m5PpyTIwWUGCUdQRenXjHxBzeOPv9b8jN/"
    "4uGeDX3XBbJmFyR+7K5JJ7bgamISvJiEBkOCSmh7CHOLydimV+NnFFHds1K7YLdZcHtjiZ"
    "ay6x+Wyuzj+HPgvXmRr41AYzFW/l9f69Ls5n0zlelN1TL6yENMZYjKvEhirZWlbmbVAEXj"
    "9BH6FGHh0KelkhflB2oNMEmhwsYtMkzmrRYkZU67nJepYOyd2KST9JSa3lJmtZUz/FH8/2"
    "Uj9xSFUpKkgLadpHUT/jC+JWAzUh0eDi/6bwaIkp0ieyaIlp2S2z2bJEWvp1TdFoJ0dfTo"
    "4+nHZytrs5erJhdlsW1MTr2qjkxI/YJL8Ec24hh9RR0G65Nt2l1NsQRIz7rMxS+u2SEfQr"
    "OZF7p8se3iR7QNHusl0kiOfZxEIcPrFoMEXcdxF/YHDcBYE3gloEgXG40zzbto4LaHKtWe"
    "Qa9z1DkK/gw1ThcdJSrUuiqJ/CCV4dtSdYjHJKqHUg9/qlUlX6C3JV+rlklSaWVis44i3f"
    "7TwyTJcowtnCETktpN1wvWSSZglkF0PKVq3vzIhqDrDJHODmWYvGvcTrpS02G1o3Ddynxt"
    "YztuJ5QusLzOQw1VFE1PGp7tJAepJoWSJ7ZYgnFGLWSEqmj+ySQf/G39sxB/JvshOmkrx+"
    "j25vg7yY21toPUVwGyAnk09ubx3QikkdbN/eqvJV1nINHUQ3K4gOimkLVpQuzlJJS21vpk"
    "rwICh4kGDx19jWTS4XiPseSZpoiv6FwkWmZeP8i7JaF8+cCQNBnDBUJWfSa1PrPCGyyFvb"
    "3u+PCnzpfuWhW8njTcppd7fJ7m6oqWoLgSVl2rdhe/08jCYMiqFvL2EQeInVIsmkiA4llT"
    "uARR52xR0GMmIa2+Vh+gwzHasvi9Wz5lUwGZ4bHDSyy5BNDoiNSjH4KahvwTZ8vvGRaRIR"
    "vlkZSkTRqruUHXEiISOIY/FcbClVchqEXcHWMfKzKvcOwSjuLtpxG57PldP/YFjDYVR1I0"
    "M5EJAFO/DnFI3wvaKop/beNT3SLHokUFq1D2tSZF0f1e2DuOGTCdsM6DAGrWysOhNo4ToX"
    "9S+DFY7TVfCdS7QQ4NpWZkpjDE8q1JHhIpyTUq1bA0svvq5Jl1VJl1wQ+zwhwRUZwnOMr/"
    "kdUWYcp84vDwPcsDm4x3H7UpnGkRgKxEIfXUAAIWePwjlOuWEgOBlW1MKTacMmnxCBJAwo"
    "LFcLp3dCAXXC8Zquo2OCZsUEgfIq14+npVqXElv/xyp8Ayr5tTOJjW01tMV+rfAHfxFT4Q"
    "ksSDiei2iElyOMfYuSiKosC3FSpoXRQ/0TiasvLVH7mhJNg35LfNiyKagrbR8kdM7FVuhX"
    "LybxErSsCYji76QmINZAQHyRkzEdBfMQnugupRzErF2JrOygMZoQuYWsjP85I8giDna9CW"
    "FeF0VGLGcDMUPYmsgiGOjV464qAfup3WnioFnEgZzHqrokeVJGkwZLSQO94vsawZ2PPUbV"
    "PY0Uou1jEOpH3OV2tcKMmcD21mTU4RivpWZCLtx7r7D6Yw6gY1bA58yEMhoZgNS6VBG/Ap"
    "sF/fjy8jwF+vHZdQbqny+OT69e9QINQCMaJq7lUxq4Q1i1ueC5hF6UddmoMoDHWm0R3Lxk"
    "Y9Hu3JEp+MbyPqXvLOfUwH9+I6PDeGUg+TRyKW75QF1woS30MCYMUQ88b+4I9MDdOzifd8"
    "3r7frZtL86dVrUh2ZftoF9qVbZlJbSWTY6y+YJ0LeL5EpNUDjWilpPS2qtN0XrijF1tjNK"
    "A6jNoMxFwWzG5S9LiM14yZEyvKZJPfpfwt4HDGTk4YQOd+j/UIEk9/jGcfnIxYoa+dW60P"
    "xls/jLjUdlDYN3zX4DPCWviG9CZE1F520COErGNCB8MwirtOmqQrS5nnBHRqTRGBsnoMKN"
    "dxHcuTuV+2u8l5Eok0uSIJvg+yjnNFz2Nj96P72756gowLb8Gy5zTxT1ul8m2LYLvwh56c"
    "2VR79b79dhp3+wP/swyB+LvglfLo7Oz/P0nITHqDrVkhJq7svTmNGKWgbz5dRv1bEqJ9i+"
    "9UjWMmTMcau8N1hOsrG0aGPM2wF8SFXTTglpsy5l1iFmVU06LaWdyxK0ugtRdbwCWp7/KS"
    "LSk1JPXFetYba9AGHFsmqCPFZzyB9b6Uf0yuTHF6fH593gkQxbqqZrZMRah3KZKoTiIoRc"
    "DYLdi/ZAWYn/zUvrabTmUL55pt/uP0nbOWmt7SZrW8/mFY+p2zmvo2fzXqLWa5jNS7pVDl"
    "yVMKnocBs9qsrTPI66+fjpitiz7dFeyn6D6eRJeCizLpCO4pUCt/KzuBio3I56T4RMtalf"
    "Gw0sWnddGGOiWg2rCmSJXRtajdSI3hPFwlYvHKp15mwcwYtojjuKrI3oTHdh3sa8zbKkjW"
    "IYdFJFs5Iq5C4RtNr6cgmRFtYt9ff2ypDge3vFJLg8l6ndgJeqAsJR8xai2ys1xdBbMMXQ"
    "y08xwBU95drNxYVKCZHNlyo9D/VRW1HSsyYgfvs/db+Njg=="
)
