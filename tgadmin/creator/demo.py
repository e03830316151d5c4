"""The demo seed (`tgadmin seed demo`): creator "Amanda Silva" with preview photos and three products
whose files a buyer actually receives, all generated here (no network), idempotent on the username.

Images are drawn with Pillow from fixed colours and labels, so a second run draws the same bytes:
assets are found by storage key and left alone when their sha256 still matches, rows are only
written where a value differs. Videos: nothing in the lock writes MP4 offline, so "Pack Fitness"
says 3 videos (`video_count`) but its files are photos only.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.creator import repository
from tgadmin.creator.jobs import deep_link
from tgadmin.models import Creator, MediaAsset, Product
from tgadmin.models.enums import CreatorTier, Currency, ProductType
from tgadmin.storage import Storage
from tgadmin.telegram import bots

ACTOR = Actor.system("demo seed")
USERNAME = "amanda_exclusive"
CREATOR: dict[str, Any] = {
    "name": "Amanda Silva",
    "bio": "Carioca, 24 anos ☀️ Praia, treino e bastidores. Conteúdo exclusivo toda semana.",
    "tier": CreatorTier.GOLD,
    "country": "Brazil",
    "is_adult": False,
    "is_active": True,
}
PREVIEW_COLOURS = ("#e4572e", "#17bebb", "#ffc914", "#76b041")
JPEG = "image/jpeg"


@dataclass(frozen=True)
class DemoProduct:
    title: str
    type: ProductType
    price_cents: int
    stars_price: int
    photos: int
    videos: int = 0
    subscription_days: int | None = None
    description: str = ""
    colour: str = "#888888"
    slug: str = ""


PRODUCTS = (
    DemoProduct(
        "Pack Verão", ProductType.CONTENT, 2990, 150, 15,
        description="15 fotos de verão na praia", colour="#ff8c42", slug="verao",
    ),
    DemoProduct(
        "Pack Fitness", ProductType.PPV, 4990, 250, 20, videos=3,
        description="20 fotos + 3 vídeos de treino", colour="#3a86ff", slug="fitness",
    ),
    DemoProduct(
        "Assinatura VIP", ProductType.SUBSCRIPTION, 7990, 400, 10, subscription_days=30,
        description="30 dias de acesso ao conteúdo VIP", colour="#8338ec", slug="vip",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class SeededProduct:
    id: int
    title: str
    type: ProductType
    price_cents: int
    currency: Currency
    stars_price: int | None
    photo_count: int
    video_count: int
    subscription_days: int | None
    files: int


@dataclass(frozen=True)
class DemoSeed:
    creator_id: int
    name: str
    username: str
    tier: CreatorTier
    country: str | None
    previews: int
    products: list[SeededProduct]
    bot_username: str | None
    changed: bool

    @property
    def deep_link(self) -> str | None:
        return None if self.bot_username is None else deep_link(self.bot_username, self.creator_id)


def draw(label: str, colour: str, size: tuple[int, int]) -> tuple[bytes, int, int]:
    """A JPEG of one colour with a label: distinguishable in a chat, the same bytes every run."""
    image = Image.new("RGB", size, colour)
    canvas = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(14, size[0] // 12))
    canvas.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill="#222222")
    # Pillow's built-in font has no accented letters: "Pack Verão" is drawn "Pack Verao".
    folded = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c))
    canvas.text((size[0] // 16, size[1] * 3 // 4), folded, fill="white", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue(), size[0], size[1]


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set only what differs (so a second run writes nothing); True when anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


class _Seeder:
    def __init__(self, session: AsyncSession, storage: Storage) -> None:
        self.session = session
        self.storage = storage
        self.changed = False

    async def asset(self, key: str, label: str, colour: str, size: tuple[int, int]) -> MediaAsset:
        data, width, height = draw(label, colour, size)
        digest = hashlib.sha256(data).hexdigest()
        asset = await repository.asset_by_key(self.session, key)
        if asset is None:
            asset = MediaAsset(storage_key=key, content_type=JPEG, size_bytes=0, sha256="", crop=None)
            self.session.add(asset)
        redrawn = asset.sha256 not in ("", digest)
        values = {"content_type": JPEG, "size_bytes": len(data), "width": width, "height": height}
        if _assign(asset, {**values, "sha256": digest}) or not await self.storage.exists(key):
            await self.storage.put(key, data, JPEG)
            self.changed = True
        await self.session.flush()
        if redrawn:
            # Telegram's copies are of the old picture: the next send uploads the new one.
            await repository.forget_file_ids(self.session, asset.id)
        return asset

    async def creator(self) -> Creator:
        creator = await repository.by_username(self.session, USERNAME)
        if creator is None:
            creator = Creator(username=USERNAME, **CREATOR)
            self.session.add(creator)
            self.changed = True
        else:
            self.changed |= _assign(creator, CREATOR)
        await self.session.flush()
        previews = [
            await self.asset(
                f"demo/{USERNAME}/preview-{n + 1}.jpg", f"Amanda · prévia {n + 1}", colour, (480, 600)
            )
            for n, colour in enumerate(PREVIEW_COLOURS)
        ]
        ids = [asset.id for asset in previews]
        if await repository.preview_asset_ids(self.session, creator.id) != ids:
            await repository.set_previews(self.session, creator.id, ids)
            self.changed = True
        self.changed |= _assign(creator, {"cover_asset_id": ids[0]})
        await self.session.flush()
        return creator

    async def product(self, creator: Creator, spec: DemoProduct) -> SeededProduct:
        values: dict[str, Any] = {
            "description": spec.description,
            "type": spec.type,
            "price_cents": spec.price_cents,
            "currency": Currency.BRL,
            "stars_price": spec.stars_price,
            "photo_count": spec.photos,
            "video_count": spec.videos,
            "subscription_days": spec.subscription_days,
            "is_active": True,
        }
        product = await repository.product_by_title(self.session, creator.id, spec.title)
        if product is None:
            product = Product(creator_id=creator.id, title=spec.title, access_chat_id=None, **values)
            self.session.add(product)
            self.changed = True
        else:
            self.changed |= _assign(product, values)
        await self.session.flush()
        key = f"demo/{USERNAME}/{spec.slug}"
        files = [
            await self.asset(f"{key}-{n + 1:02d}.jpg", f"{spec.title} · {n + 1}", spec.colour, (400, 300))
            for n in range(spec.photos)
        ]
        ids = [asset.id for asset in files]
        if await repository.product_asset_ids(self.session, product.id) != ids:
            await repository.set_product_media(self.session, product.id, ids)
            self.changed = True
        return SeededProduct(
            product.id,
            product.title,
            product.type,
            product.price_cents,
            product.currency,
            product.stars_price,
            product.photo_count,
            product.video_count,
            product.subscription_days,
            len(ids),
        )


async def seed_demo(session: AsyncSession, storage: Storage) -> DemoSeed:
    """Create or update the demo creator and products (flushes; the caller commits)."""
    seeder = _Seeder(session, storage)
    creator = await seeder.creator()
    products = [await seeder.product(creator, spec) for spec in PRODUCTS]
    if seeder.changed:
        await record(session, ACTOR, "creator.demo_seeded", "creator", creator.id)
    active = await bots.active_bots(session)
    return DemoSeed(
        creator.id,
        creator.name,
        creator.username,
        creator.tier,
        creator.country,
        len(PREVIEW_COLOURS),
        products,
        active[0].username if active else None,
        seeder.changed,
    )
