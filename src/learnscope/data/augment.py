"""Data augmentation: new training images made from old ones by moves that keep their label.

A digit moved two pixels or turned ten degrees is still the same digit, so each epoch can show the network a
slightly different version of every image. It cannot memorise exact pixels it never sees twice: that is a
remedy for overfitting, the cheapest way to get "more data".
"""

import numpy as np

from learnscope.core.validation import check_range, describe

#: The defaults: the moves a handwritten digit survives (Simard et al., 2003 used similar ones for MNIST)
MAX_SHIFT = 2.0
MAX_DEGREES = 10.0


def shift_and_rotate(images, rng: np.random.Generator, max_shift: float = MAX_SHIFT,
                     max_degrees: float = MAX_DEGREES) -> np.ndarray:
    """Each image moved by up to `max_shift` pixels across and down and turned by up to `max_degrees` about its
    centre, all drawn independently per image; bilinear interpolation, black where the image moved in from
    outside.   (N, C, H, W) -> (N, C, H, W), same dtype. Labels do not change, so they are not passed."""
    if not isinstance(images, np.ndarray) or images.ndim != 4:
        raise ValueError(f"shift_and_rotate expected images of shape (N, C, H, W), got {describe(images)}. "
                         "Augmentation moves pixels, so it needs images, not feature tables.")
    max_shift = float(check_range(max_shift, "max_shift", "shift_and_rotate", minimum=0, maximum=images.shape[-1]))
    max_degrees = float(check_range(max_degrees, "max_degrees", "shift_and_rotate", minimum=0, maximum=180))
    n = len(images)
    angles = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    shifts = rng.uniform(-max_shift, max_shift, (n, 2))
    return warp(images, angles, shifts)


def warp(images: np.ndarray, angles, shifts) -> np.ndarray:
    """Rotate each image by angles[n] (radians, counter-clockwise as displayed) about its centre, then move it by
    shifts[n] = (down, across) pixels.   (N, C, H, W) -> (N, C, H, W), bilinear, zeros outside."""
    height, width = images.shape[2:]
    angles, shifts = np.asarray(angles, dtype=np.float64), np.asarray(shifts, dtype=np.float64)
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    rows, cols = np.meshgrid(np.arange(height) - centre_row, np.arange(width) - centre_col, indexing="ij")
    # each output pixel reads the source point that the inverse move brings it back to: undo the shift, then
    # turn back by the angle (rows grow downwards, so a counter-clockwise turn on screen is a clockwise one here)
    down = rows[None] - shifts[:, 0, None, None]
    across = cols[None] - shifts[:, 1, None, None]
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    source_row = cos * down + sin * across + centre_row
    source_col = cos * across - sin * down + centre_col
    return _bilinear(images, source_row, source_col)


def _bilinear(images, source_row, source_col) -> np.ndarray:
    """images sampled at fractional (row, col) points per image, (N, H, W) each; zero outside the image."""
    n, channels, height, width = images.shape
    top, left = np.floor(source_row).astype(np.int64), np.floor(source_col).astype(np.int64)
    down, across = source_row - top, source_col - left
    out = np.zeros((n, height, width, channels), dtype=np.float64)
    batch = np.arange(n)[:, None, None]
    for row_step, col_step, weight in ((0, 0, (1 - down) * (1 - across)), (0, 1, (1 - down) * across),
                                       (1, 0, down * (1 - across)), (1, 1, down * across)):
        r, c = top + row_step, left + col_step
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width) & (weight > 0)
        values = images[batch, :, np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)]   # (N, H, W, C)
        out += values * (weight * inside)[..., None]
    out = out.transpose(0, 3, 1, 2)
    if images.dtype.kind in "ui":                       # integer pixels stay integers, rounded rather than cut
        out = np.rint(out)
    return np.ascontiguousarray(out, dtype=images.dtype)
