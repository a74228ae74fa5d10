"""The blank-screenshot check tells a blank image from a drawn one (synthetic images with known colours)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from pixels import colour_summary


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_white_image_has_one_colour_covering_everything():
    assert colour_summary(_png(Image.new("RGB", (64, 32), "white"))) == (1, 1.0)


def test_a_drawn_image_counts_each_colour_and_the_background_share():
    image = Image.new("RGB", (10, 10), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 4, 9), fill=(200, 0, 0))  # 5 × 10 = 50 red pixels
    draw.point((9, 9), fill=(0, 0, 255))
    assert colour_summary(_png(image)) == (3, 0.5)
