"""Augmentation: the moves are the ones named, and they keep shapes, dtypes and (on real digits) the ink."""

import numpy as np
import pytest

from learnscope.data.augment import shift_and_rotate, warp


def pictures(n=3, size=9, dtype=np.float32):
    return np.random.default_rng(0).random((n, 2, size, size)).astype(dtype)


def test_no_move_gives_the_images_back_exactly():
    images = pictures()
    np.testing.assert_array_equal(warp(images, np.zeros(3), np.zeros((3, 2))), images)


def test_a_whole_pixel_shift_moves_every_pixel_and_fills_with_black():
    images = pictures()
    moved = warp(images, np.zeros(3), np.tile([1.0, -2.0], (3, 1)))      # one down, two to the left
    expected = np.zeros_like(images)
    expected[:, :, 1:, :-2] = images[:, :, :-1, 2:]
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_a_quarter_turn_is_numpys_rot90():
    images = pictures()
    turned = warp(images, np.full(3, np.pi / 2), np.zeros((3, 2)))
    np.testing.assert_allclose(turned, np.rot90(images, k=1, axes=(2, 3)), atol=1e-5)


def test_random_moves_keep_shape_dtype_and_stay_within_their_limits():
    rng = np.random.default_rng(1)
    images = np.zeros((50, 1, 15, 15), dtype=np.uint8)
    images[:, :, 7, 7] = 200                                            # one bright dot in the middle
    moved = shift_and_rotate(images, rng, max_shift=2, max_degrees=0)
    assert moved.shape == images.shape and moved.dtype == np.uint8
    rows, cols = np.nonzero(moved[:, 0].max(axis=0))
    assert rows.min() >= 5 and rows.max() <= 9 and cols.min() >= 5 and cols.max() <= 9
    assert len(np.unique(moved.reshape(50, -1), axis=0)) > 10           # each image drew its own move


def test_augmented_digits_keep_their_ink(mnist):
    digits = mnist.x_train[:200]
    moved = shift_and_rotate(digits, np.random.default_rng(0))
    ink_before, ink_after = digits.sum(axis=(1, 2, 3)), moved.sum(axis=(1, 2, 3))
    assert np.all(np.abs(ink_after / ink_before - 1) < 0.05)           # nothing pushed off the 28×28 frame
    assert np.abs(moved - digits).mean() > 0.02                          # and they did move


@pytest.mark.parametrize("bad, says", [(np.zeros((4, 784)), "needs images"), ("pixels", "(N, C, H, W)")])
def test_tables_are_refused_with_the_reason(bad, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        shift_and_rotate(bad, np.random.default_rng(0))
