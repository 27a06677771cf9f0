"""Numbers to small pictures: the lab sends heatmaps, weight images and digits to the browser as PNGs.

Colours follow the playground convention: orange for positive, blue for negative, white for zero, so the
sign of a weight, a neuron's output or a class score reads the same everywhere.
"""

import base64
import io

import numpy as np
from PIL import Image

NEGATIVE = np.array([8, 119, 189], dtype=np.float32)      # blue
ZERO = np.array([255, 255, 255], dtype=np.float32)
POSITIVE = np.array([245, 147, 34], dtype=np.float32)     # orange


def diverging_colors(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """(...,) values -> (..., 3) uint8: blue at −limit, white at 0, orange at +limit (default: max |value|).
    Non-finite values are drawn black, so a diverged network is visible rather than silently white."""
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    if limit is None:
        limit = float(np.abs(values[finite]).max()) if finite.any() else 1.0
    limit = limit if limit > 0 else 1.0
    t = np.clip(np.where(finite, values, 0.0) / limit, -1.0, 1.0)[..., None]
    rgb = np.where(t >= 0, ZERO + t * (POSITIVE - ZERO), ZERO - t * (NEGATIVE - ZERO))
    rgb[~finite] = 0
    return np.rint(rgb).astype(np.uint8)


def hex_color(rgb) -> str:
    """(r, g, b) 0..255 -> '#rrggbb', for SVG and CSS."""
    red, green, blue = (int(c) for c in rgb)
    return f"#{red:02x}{green:02x}{blue:02x}"


def grayscale(values: np.ndarray, low: float | None = None, high: float | None = None) -> np.ndarray:
    """(H, W) values -> (H, W) uint8, low -> 0 (black) and high -> 255 (white); default: the min and max."""
    values = np.asarray(values, dtype=np.float32)
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if low is None and finite.size else (low or 0.0)
    high = float(finite.max()) if high is None and finite.size else (high if high is not None else 1.0)
    span = high - low if high > low else 1.0
    scaled = np.clip((np.nan_to_num(values, nan=low) - low) / span, 0.0, 1.0)
    return np.rint(scaled * 255).astype(np.uint8)


def tile_images(images: np.ndarray, columns: int, gap: int = 1, background: int = 255) -> np.ndarray:
    """(K, h, w[, 3]) uint8 pictures -> one grid of `columns` per row, `gap` pixels of `background` between."""
    images = np.asarray(images)
    count, height, width = images.shape[:3]
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    shape = (rows * (height + gap) - gap, columns * (width + gap) - gap, *images.shape[3:])
    grid = np.full(shape, background, dtype=np.uint8)
    for index in range(count):
        top, left = divmod(index, columns)
        top, left = top * (height + gap), left * (width + gap)
        grid[top:top + height, left:left + width] = images[index]
    return grid


def png_bytes(pixels: np.ndarray, scale: int = 1) -> bytes:
    """(H, W) gray or (H, W, 3) RGB uint8 -> PNG bytes, each pixel repeated `scale`×`scale` (crisp, no blur)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if scale > 1:
        pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()


def png_data_uri(pixels: np.ndarray, scale: int = 1) -> str:
    """The PNG as a data: URI, which an <img> shows without another request to the server."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels, scale)).decode("ascii")


def attribution_overlay(digit: np.ndarray, attribution: np.ndarray, signed: bool = True) -> np.ndarray:
    """(H, W) digit in [0, 1] and (H, W) attribution -> (H, W, 3) uint8: the map's colours (orange for, blue
    against; or orange by size when not signed) over the digit, which shows through as grey where the map is
    weak. Scaled to the 99th percentile of |value| (larger ones saturate), so a few extreme pixels do not leave
    the rest of the map too pale to see."""
    digit, attribution = np.asarray(digit, dtype=np.float32), np.asarray(attribution, dtype=np.float32)
    if digit.shape != attribution.shape:
        raise ValueError(f"attribution_overlay expected a map of the digit's shape {digit.shape}, got "
                         f"{attribution.shape}.")
    limit = float(np.percentile(np.abs(attribution), 99)) or float(np.abs(attribution).max()) or 1.0
    colors = diverging_colors(attribution if signed else np.abs(attribution), limit=limit).astype(np.float32)
    strength = np.clip(np.abs(attribution) / limit, 0, 1)[..., None]
    ink = (1 - 0.6 * np.clip(digit, 0, 1))[..., None] * 255          # the digit in grey under a weak map
    return np.rint(strength * colors + (1 - strength) * ink).astype(np.uint8)
