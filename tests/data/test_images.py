"""MNIST-style preprocessing of arbitrary pictures."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from learnscope.data.images import load_image, to_mnist_format


def drawn_digit(path, size=(300, 200), background="white", ink="black", box=(120, 30, 160, 170), mode="RGB"):
    image = Image.new(mode, size, background)
    ImageDraw.Draw(image).rectangle(box, fill=ink)           # a thick upright stroke: a "1"
    image.save(path)
    return path


def test_dark_on_light_photo_becomes_a_centred_light_digit(tmp_path):
    pixels = to_mnist_format(load_image(drawn_digit(tmp_path / "one.png")))
    assert pixels.shape == (28, 28) and pixels.dtype == np.float32
    assert pixels.max() == pytest.approx(1.0, abs=0.02) and pixels[0, 0] == 0    # inverted: light ink, dark paper
    rows, cols = np.nonzero(pixels > 0.5)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)       # the longer side is fitted to 20 pixels
    assert cols.max() - cols.min() + 1 < 10                  # aspect ratio kept: still a thin stroke
    rows_index, cols_index = np.indices(pixels.shape)
    centre = ((rows_index * pixels).sum() / pixels.sum(), (cols_index * pixels).sum() / pixels.sum())
    assert centre == pytest.approx((13.5, 13.5), abs=0.75)


def test_light_on_dark_input_is_not_inverted_and_position_does_not_matter(tmp_path):
    corner = to_mnist_format(load_image(drawn_digit(tmp_path / "a.png", background="black", ink="white",
                                                    box=(5, 5, 40, 120))))
    middle = to_mnist_format(load_image(drawn_digit(tmp_path / "b.png", background="black", ink="white",
                                                    box=(150, 60, 185, 175))))
    np.testing.assert_allclose(corner, middle, atol=0.05)


def test_transparent_png_is_drawn_on_white(tmp_path):
    path = drawn_digit(tmp_path / "t.png", background=(0, 0, 0, 0), ink=(0, 0, 0, 255), mode="RGBA")
    pixels = to_mnist_format(load_image(path))
    assert pixels[0, 0] == 0 and pixels.max() > 0.9


def test_empty_picture_gives_an_empty_frame():
    assert not to_mnist_format(np.ones((50, 50), dtype=np.float32)).any()


def test_bad_images(tmp_path):
    with pytest.raises(FileNotFoundError, match="no image"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="not an image"):
        load_image(tmp_path / "notes.png")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        to_mnist_format(np.full((10, 10), 255.0))
    with pytest.raises(ValueError, match="2-D"):
        to_mnist_format(np.zeros((3, 10, 10)))


def test_a_huge_picture_is_refused_before_it_is_decoded(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (13_000, 13_000)).save(path)                 # a few kB on disk, 169 MB of pixels decoded
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match="13,000×13,000 pixels; pictures up to 24,000,000 pixels"):
        load_image(path)


def test_an_animation_is_refused(tmp_path):
    path = tmp_path / "digits.gif"
    frames = [Image.new("L", (40, 40), shade) for shade in (0, 255)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match="an animation of 2 frames"):
        load_image(path)
