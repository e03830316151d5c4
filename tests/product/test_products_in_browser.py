"""End to end in headless Chromium (Debian's, through Playwright): an operator logs in through the
mailed link (real SMTP on loopback), creates a product and uploads its 12 photos in one multi-file
input, and sees the 12 listed in the order chosen."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from playwright.async_api import Browser

from tests.fixtures.dashboard import Desk, browser_log_in
from tests.product.conftest import Catalog
from tgadmin.models.enums import OperatorRole


async def test_an_operator_creates_a_product_with_twelve_photos_in_one_upload(
    desk: Desk, catalog: Catalog, chromium: Browser, tmp_path: Path
) -> None:
    operator = await desk.operator(OperatorRole.OPERATOR, email="ana@example.com")
    photos = []
    for n in range(12):
        path = tmp_path / f"foto-{n:02d}.png"
        Image.new("RGB", (100 + n, 80), (20 * n, 100, 200)).save(path)
        photos.append(str(path))
    page = await browser_log_in(chromium, desk, operator.email)

    await page.goto(f"/creators/{catalog.creator.id}/products/new")
    await page.get_by_label("Title").fill("Pack Verão")
    await page.get_by_label("Price (R$)").fill("29,90")
    await page.get_by_label("Type").select_option("content")
    await page.get_by_role("button", name="Create product").click()
    await page.get_by_text("Product “Pack Verão” created").wait_for()

    await page.get_by_label("Add photos and videos").set_input_files(photos)
    await page.get_by_role("button", name="Upload").click()
    await page.get_by_text("12 file(s) added").wait_for()

    items = page.locator("ol.media li")
    assert await items.count() == 12
    sizes = [(await item.locator("div.small").inner_text()).split(" · ")[-1] for item in await items.all()]
    assert sizes == [f"{100 + n}×80" for n in range(12)]
    assert await page.locator("#counts").inner_text() == "12 photos, 0 videos"
    # Every thumbnail is served (the browser loaded the stored image; they load lazily, when seen).
    for image in await page.locator("ol.media img").all():
        await image.scroll_into_view_if_needed()
    await page.wait_for_function(
        "[...document.querySelectorAll('ol.media img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    widths = await page.eval_on_selector_all("ol.media img", "imgs => imgs.map(i => i.naturalWidth)")
    assert widths == [100 + n for n in range(12)]
    (product,) = await catalog.products()
    assert product.price_cents == 2990 and product.photo_count == 12
    await page.context.close()
