"""A QR code read from a photo of it: the image's size is checked before its pixels are decoded."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import N_, Invalid

MAX_PHOTO_BYTES = 15 * 1024 * 1024
# A 48 MP phone photo (8000 × 6000) fits; a 14000 × 14000 image (196 MP, ~600 MB decoded) does not.
MAX_PHOTO_PIXELS = 50_000_000
# Pillow's own guard, for every image we open: above this it warns, above twice this it raises.
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS


class PhotoTooLarge(Invalid):
    status_code = 413
    code = "image_too_large"


def decode_qr(data: bytes) -> str | None:
    """The first QR code's text in an image, or None (unreadable image or no code).

    PhotoTooLarge when the image has more than MAX_PHOTO_PIXELS: Pillow opens lazily, so the
    size is known from the header before anything is decoded.
    """
    import zxingcpp

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_PHOTO_PIXELS:
                raise PhotoTooLarge(
                    N_("The photo has too many pixels (at most {mp} megapixels)."),
                    params={"mp": MAX_PHOTO_PIXELS // 1_000_000},
                )
            img.draft("L", (2000, 2000))  # JPEG: decode at a reduced scale, in less memory
            upright = ImageOps.exif_transpose(img)
            upright.thumbnail((2000, 2000))
            results = zxingcpp.read_barcodes(upright.convert("L"))
    except Image.DecompressionBombError as exc:  # a size that the header hid (e.g. in frames)
        raise PhotoTooLarge(
            N_("The photo has too many pixels (at most {mp} megapixels)."),
            params={"mp": MAX_PHOTO_PIXELS // 1_000_000},
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    return results[0].text if results else None
