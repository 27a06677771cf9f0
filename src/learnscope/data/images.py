"""Turn any picture of a digit into what an MNIST network expects.

MNIST's recipe (LeCun et al.): white digit on black, the digit's bounding box scaled to fit 20×20
keeping its aspect ratio, then placed in a 28×28 frame so that its centre of mass sits in the middle.
A network trained on MNIST only works on digits prepared the same way.
"""

import warnings
from pathlib import Path

import numpy as np

from learnscope.core.validation import check_array

MAX_IMAGE_BYTES = 20 * 2**20
#: Pictures with more pixels than this (a 6000 × 4000 photo) are refused before they are decoded
MAX_IMAGE_PIXELS = 24_000_000


def load_image(path) -> np.ndarray:
    """Read a PNG/JPEG/BMP/... file as a float32 grayscale array in [0, 1], shape (H, W)."""
    from PIL import Image, UnidentifiedImageError  # Pillow is needed only for image files

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image at {path}. Check the path.")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise ValueError(f"{path} is {path.stat().st_size / 2**20:.0f} MiB; images up to "
                         f"{MAX_IMAGE_BYTES // 2**20} MiB are accepted. Use a smaller picture.")
    try:
        with warnings.catch_warnings():
            # PIL warns at open() about pictures past its own limit; the size check below refuses them in words
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise ValueError(f"{path} has far too many pixels to be a picture of a digit (a decompression bomb?). Use a "
                         "smaller picture.") from None
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path} is not an image Pillow can read ({err}). Use a PNG or JPEG file.") from None
    try:
        with image:
            # NOTE: the header's size is known before decoding: a small file may unpack to gigabytes
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValueError(f"{path} is {width:,}×{height:,} pixels; pictures up to {MAX_IMAGE_PIXELS:,} pixels "
                                 "are accepted (a photo of a digit needs far fewer). Use a smaller picture.")
            if getattr(image, "n_frames", 1) > 1:
                raise ValueError(f"{path} is an animation of {image.n_frames} frames; a digit is one picture. "
                                 "Save the frame you mean as a PNG.")
            image.load()
            if image.mode in ("RGBA", "LA") or "transparency" in image.info:
                # a transparent background: draw the picture onto white, as a viewer shows it
                background = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, image.convert("RGBA"))
            gray = np.asarray(image.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path} is not an image Pillow can read ({err}). Use a PNG or JPEG file.") from None
    return gray / 255.0


def to_mnist_format(image) -> np.ndarray:
    """(H, W) grayscale in [0, 1], any size -> (28, 28) float32, MNIST style. Dark-on-light input is
    inverted; an empty image stays all zeros."""
    image = check_array(image, "image", "to_mnist_format", ndim=2, dtype=np.float32)
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"to_mnist_format expected an image of at least 2×2 pixels, got {image.shape}.")
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise ValueError("to_mnist_format expected pixel values in [0, 1]. Divide 8-bit images by 255.")
    # The background is the most common brightness at the border; MNIST digits are light on dark.
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if np.median(border) > 0.5:
        image = 1.0 - image
    image = np.where(image > 0.1, image, 0.0)           # drop faint paper texture and JPEG noise
    rows, cols = np.nonzero(image)
    if len(rows) == 0:
        return np.zeros((28, 28), dtype=np.float32)
    digit = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    digit = _resize(digit, 20)
    frame = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - digit.shape[0]) // 2, (28 - digit.shape[1]) // 2
    frame[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return _center_of_mass_to_middle(frame)


def _resize(digit: np.ndarray, box: int) -> np.ndarray:
    """Scale so the longer side is `box` pixels, keeping the aspect ratio (area-averaging when shrinking)."""
    from PIL import Image

    height, width = digit.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray((digit * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.float32) / 255.0


def _center_of_mass_to_middle(frame: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the brightness-weighted centre lands on (14, 14), as MNIST does."""
    total = frame.sum()
    rows, cols = np.indices(frame.shape)
    shift_row = round(13.5 - float((rows * frame).sum() / total))
    shift_col = round(13.5 - float((cols * frame).sum() / total))
    shifted = np.zeros_like(frame)
    src_rows = slice(max(0, -shift_row), min(28, 28 - shift_row))
    dst_rows = slice(max(0, shift_row), min(28, 28 + shift_row))
    src_cols = slice(max(0, -shift_col), min(28, 28 - shift_col))
    dst_cols = slice(max(0, shift_col), min(28, 28 + shift_col))
    shifted[dst_rows, dst_cols] = frame[src_rows, src_cols]
    return shifted
