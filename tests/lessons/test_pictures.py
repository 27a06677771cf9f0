import base64
import io

import numpy as np
import pytest
from PIL import Image

from learnscope.lessons.pictures import (
    NEGATIVE,
    POSITIVE,
    diverging_colors,
    grayscale,
    hex_color,
    png_bytes,
    png_data_uri,
    tile_images,
)


def test_diverging_colors_put_sign_in_hue_and_size_in_strength():
    rgb = diverging_colors(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    assert rgb.dtype == np.uint8 and rgb.shape == (5, 3)
    np.testing.assert_array_equal(rgb[0], NEGATIVE.astype(np.uint8))
    np.testing.assert_array_equal(rgb[2], [255, 255, 255])
    np.testing.assert_array_equal(rgb[4], POSITIVE.astype(np.uint8))
    np.testing.assert_array_equal(rgb[3], np.rint((255 + POSITIVE) / 2).astype(np.uint8))  # half way to orange


def test_diverging_colors_clip_at_the_limit_and_paint_non_finite_black():
    rgb = diverging_colors(np.array([5.0, np.nan, np.inf]), limit=1.0)
    np.testing.assert_array_equal(rgb[0], POSITIVE.astype(np.uint8))
    np.testing.assert_array_equal(rgb[1:], 0)


def test_grayscale_maps_min_to_black_and_max_to_white():
    gray = grayscale(np.array([[1.0, 2.0], [3.0, 5.0]]))
    np.testing.assert_array_equal(gray, [[0, 64], [128, 255]])
    np.testing.assert_array_equal(grayscale(np.zeros((2, 2))), 0)   # a flat picture does not divide by zero


def test_tile_images_lays_pictures_out_in_rows_with_gaps():
    images = np.stack([np.full((2, 3), value, dtype=np.uint8) for value in (10, 20, 30)])
    grid = tile_images(images, columns=2, gap=1, background=255)
    assert grid.shape == (5, 7)
    assert grid[0, 0] == 10 and grid[0, 4] == 20 and grid[3, 0] == 30
    assert grid[2, 0] == 255 and grid[0, 3] == 255 and grid[3, 4] == 255  # gaps and the empty cell


def test_png_round_trips_pixels_and_scales_them_crisply():
    pixels = np.array([[0, 255], [128, 7]], dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(pixels, scale=3))))
    assert decoded.shape == (6, 6)
    np.testing.assert_array_equal(decoded[::3, ::3], pixels)
    uri = png_data_uri(np.zeros((2, 2, 3), dtype=np.uint8))
    assert uri.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).size == (2, 2)


def test_hex_color_writes_rgb_as_css():
    assert hex_color([245, 147, 34]) == "#f59322" and hex_color(np.array([8.4, 119.0, 189.0])) == "#0877bd"
    assert hex_color(diverging_colors([0.0])[0]) == "#ffffff"                  # zero is white on the sign scale
    assert hex_color(POSITIVE) != hex_color(NEGATIVE)


def test_an_attribution_overlay_shows_the_map_where_strong_and_the_digit_where_weak():
    from learnscope.lessons.pictures import NEGATIVE, POSITIVE, attribution_overlay

    digit = np.zeros((4, 4), np.float32)
    digit[1, 1] = 1.0
    attribution = np.zeros((4, 4), np.float32)
    attribution[0, 0], attribution[3, 3] = 2.0, -2.0
    picture = attribution_overlay(digit, attribution)
    assert picture.shape == (4, 4, 3)
    assert picture[0, 0].tolist() == POSITIVE.astype(int).tolist()         # strongest for: orange
    assert picture[3, 3].tolist() == NEGATIVE.astype(int).tolist()         # strongest against: blue
    assert picture[1, 1].tolist() == [102, 102, 102]                        # ink under no map: grey
    assert picture[2, 2].tolist() == [255, 255, 255]                        # nothing: white
    sizes = attribution_overlay(digit, attribution, signed=False)
    assert sizes[3, 3].tolist() == POSITIVE.astype(int).tolist()            # by size: against counts too
    spiky = np.linspace(0, 1, 400).reshape(20, 20).astype(np.float32)
    spiky[0, 0] = 100.0                                                     # one extreme pixel saturates
    pale = attribution_overlay(np.zeros((20, 20), np.float32), spiky)
    assert pale[19, 19].tolist() == POSITIVE.astype(int).tolist()           # the rest still reaches full colour
    with pytest.raises(ValueError, match="digit's shape"):
        attribution_overlay(digit, attribution[:2])
