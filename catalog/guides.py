"""The typed guide other contexts read: ``catalog.schemas.Guide``, never the stored dict.

Two ways in, both cached per worker:

- ``version_guide(version_id)``: the guide a case was filed under. Published versions never
  change (``catalog.models.ItemVersion``), so a worker keeps them for good, bounded in number.
- ``published_guide(code, cache)``: the item's current guide, for what is asked often (an upload
  intent comes with every photo a phone takes). It goes through the catalogue's generational
  cache, so a publication elsewhere is seen as soon as that cache sees it, and is parsed once
  per distinct cached body.

A stored guide is read with ``Guide.stored``: its shape is checked, the policy it was written
under is not asked again, so a rule added later never makes an old case unreadable.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TypeVar

from catalog.models import ItemVersion
from catalog.schemas import Guide
from catalog.service import get_published_version
from core.cache import GenerationalCache

_MAX_GUIDES = 1024
K = TypeVar("K")

_BY_VERSION: OrderedDict[int, Guide] = OrderedDict()
#: Keyed by the cached body itself: bytes keep their hash, and a new publication is new bytes.
_BY_BODY: OrderedDict[bytes, Guide] = OrderedDict()


def _remember(memo: OrderedDict[K, Guide], key: K, guide: Guide) -> Guide:
    memo[key] = guide
    if len(memo) > _MAX_GUIDES:
        memo.popitem(last=False)
    return guide


async def version_guide(version_id: int) -> Guide:
    """The guide of one item version (the one a case was filed under)."""
    guide = _BY_VERSION.get(version_id)
    if guide is not None:
        return guide
    version = await ItemVersion.get(id=version_id)
    return _remember(_BY_VERSION, version_id, Guide.stored(version.guide))


async def published_guide(*, code: str, cache: GenerationalCache) -> Guide:
    """The current guide of a published item; ``catalog.service.ItemNotFound`` otherwise."""

    async def build() -> bytes:
        version = await get_published_version(code=code)
        return json.dumps(version.guide, ensure_ascii=False, separators=(",", ":")).encode()

    body = await cache.get_or_build(f"typed-guide:{code}", build)
    guide = _BY_BODY.get(body)
    if guide is not None:
        return guide
    return _remember(_BY_BODY, body, Guide.stored(json.loads(body)))


def forget_guides() -> None:
    """Drop this worker's guides (tests that rebuild the catalogue reuse version ids)."""
    _BY_VERSION.clear()
    _BY_BODY.clear()
