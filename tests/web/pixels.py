"""Is a screenshot a page, or blank? Decoded with Pillow, counted by colour."""

from __future__ import annotations

import io

from PIL import Image


def colour_summary(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of the pixels that the most common colour covers)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height)
    return len(counts), max(n for n, _ in counts) / (image.width * image.height)


def assert_not_blank(png: bytes, *, min_colours: int = 40, max_background: float = 0.95) -> None:
    colours, background = colour_summary(png)
    assert colours >= min_colours and background <= max_background, (colours, background)
