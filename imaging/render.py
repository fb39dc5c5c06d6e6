"""Turn a dataset's frames into web images, thumbnails and the values behind live windowing.

The grey-scale pipeline follows PS3.3 C.11: stored values → Modality LUT
(rescale slope and intercept, or a Modality LUT Sequence) → real-world values
→ VOI window → 8-bit display values, inverted for MONOCHROME1.  Colour images
skip the LUTs: RGB passes through, YBR is converted to RGB and PALETTE COLOR
is looked up in its palette.  Frames are decoded one at a time, so a
2,000-frame cine never sits in memory whole.

The display pixels become web images and thumbnails in ``web_image``; they match dcmtk's ``dcmj2pnm`` with
the same window to within one grey level.  A single native grey frame skips pydicom's decoder and the float
maths: it is looked up in a table of its stored values (``_looked_up``).
"""

import logging
import math
from collections.abc import Iterator

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, convert_color_space, iter_pixels
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from .attributes import first_number, functional_item, uid_name
from .labels import PARAMETRIC_MAP_STORAGE
from .web_image import RenderedFrame, web_image
from .windows import (
    AUTO_SAMPLE_PIXELS,
    Window,
    auto_window,
    default_window,
    header_window,
    window_before_values,
)
from .withheld import quiet_pydicom

logger = logging.getLogger(__name__)


__all__ = [
    "RenderError",
    "RenderedFrame",
    "is_greyscale",
    "iter_frames",
    "modality_lut",
    "render_dataset",
    "render_frame",
    "to_display",
]


WEB_SIDE = 2048  # the longest side of a web image


THUMB_SIDE = 360


POOLED_SAMPLE_FRAMES = 32


_GREY = ("MONOCHROME1", "MONOCHROME2")


_RGB_ALREADY = ("RGB", "YBR_RCT", "YBR_ICT")  # JPEG 2000 decoders undo the RCT/ICT themselves


_YBR = ("YBR_FULL", "YBR_FULL_422")


class RenderError(ValueError):
    """The frame cannot be turned into a web image; ``str(error)`` is the reason for the author."""


def iter_frames(ds: Dataset, *, indices: list[int] | None = None) -> Iterator[np.ndarray]:
    """Yield each frame's stored values (or those of the frames at ``indices``), decoding one at a time.

    Colour frames keep their colour model (YBR stays YBR; ``to_display``
    converts), so the photometric interpretation of ``ds`` describes them.

    Raises
    ------
    RenderError
        When a frame cannot be decoded.
    """
    frames = iter_pixels(ds, raw=True, indices=indices)
    while True:
        try:
            # pydicom's notes on padding and such may quote element values: never let them out.
            with quiet_pydicom():
                frame = next(frames)
        except StopIteration:
            return
        except Exception as error:  # decoders raise RuntimeError, ValueError, struct.error, …
            syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
            name = uid_name(syntax)
            what = f" ({name})" if name else ""
            logger.info("Decoding failed%s (%s)", what, type(error).__name__)
            raise RenderError(f"the image data could not be decoded{what}") from error
        yield frame


def _photometric(ds: Dataset) -> str:
    value = str(ds.get("PhotometricInterpretation") or "").strip().upper()
    if value:
        return value
    return "MONOCHROME2" if int(ds.get("SamplesPerPixel") or 1) == 1 else "RGB"


def is_greyscale(ds: Dataset) -> bool:
    """Return whether the dataset's frames go through the grey-scale (Modality and VOI LUT) pipeline."""
    return _photometric(ds) in _GREY


def is_monochrome1(ds: Dataset) -> bool:
    """Return whether the lowest values are meant to be shown white (PS3.3 C.7.6.3.1.2)."""
    return _photometric(ds) == "MONOCHROME1"


def modality_lut(frame: np.ndarray, ds: Dataset, *, frame_index: int = 0) -> np.ndarray:
    """Return a grey-scale frame's real-world values (HU for CT) as float32.

    Applies Rescale Slope and Intercept, from the dataset or, for enhanced
    objects, from the Pixel Value Transformation functional group, or else a
    Modality LUT Sequence; a parametric map's integer values go through the
    slope and intercept of its (first) Real World Value Mapping.  Colour frames are returned unchanged: the
    Modality LUT applies to grey-scale images only.  Non-finite float pixel
    values become 0.

    References
    ----------
    DICOM PS3.3 C.11.1 (Modality LUT), C.7.6.16.2.9 (Pixel Value
    Transformation), C.7.6.16.2.11 (Real World Value Mapping), C.7.6.24
    (Floating Point Image Pixel), A.75 (Parametric Map IOD).
    """
    if not is_greyscale(ds):
        return frame
    values = frame.astype(np.float32, copy=True)
    if frame.dtype.kind == "f" and not np.isfinite(values).all():
        np.nan_to_num(values, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    if "ModalityLUTSequence" in ds and "RescaleSlope" not in ds:
        return apply_modality_lut(frame, ds).astype(np.float32, copy=False)
    source: Dataset | None = ds if "RescaleSlope" in ds or "RescaleIntercept" in ds else None
    if source is None:
        source = functional_item(ds, "PixelValueTransformationSequence", frame_index)
    prefix = "Rescale"
    if source is None and str(ds.get("SOPClassUID") or "") == PARAMETRIC_MAP_STORAGE:
        source, prefix = functional_item(ds, "RealWorldValueMappingSequence", frame_index), "RealWorldValue"
    if source is None:
        return values
    slope = first_number(source.get(f"{prefix}Slope"))
    intercept = first_number(source.get(f"{prefix}Intercept"))
    if slope is not None and slope != 1:
        values *= np.float32(slope)
    if intercept:
        values += np.float32(intercept)
    return values


def to_display(values: np.ndarray, ds: Dataset, window: Window | None, *, invert: bool = False) -> np.ndarray:
    """Return 8-bit display pixels: H×W for grey-scale, H×W×3 RGB for colour.

    Grey-scale values (real-world, after ``modality_lut``) go through the VOI
    window with the file's VOI LUT Function (LINEAR by default, LINEAR_EXACT,
    SIGMOID) in vectorised float32 maths; MONOCHROME1 is inverted, and so is
    everything when ``invert`` is set (nuclear medicine is often read black
    on white).  Colour frames ignore the window.

    References
    ----------
    DICOM PS3.3 C.11.2.1.2 (window centre and width, LINEAR, LINEAR_EXACT and
    SIGMOID), C.7.6.3.1.2 (Photometric Interpretation), C.7.9 (Palette Color
    Lookup Table).
    """
    photometric = _photometric(ds)
    if photometric in _GREY:
        if window is None:
            window = auto_window(values)
        pixels = _voi(values, window, str(ds.get("VOILUTFunction") or "LINEAR").upper())
        if (photometric == "MONOCHROME1") != invert:
            np.subtract(255, pixels, out=pixels)
        return pixels
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(values, ds)
        return _to_8_bit(rgb, 16 if rgb.dtype.itemsize > 1 else 8)
    bits = int(ds.get("BitsStored") or 8)
    if photometric in _RGB_ALREADY:
        return _to_8_bit(values, bits)
    if photometric in _YBR:
        return convert_color_space(_to_8_bit(values, bits), "YBR_FULL", "RGB")
    raise RenderError(
        "unsupported colour model (Photometric Interpretation is not MONOCHROME, RGB, YBR or PALETTE COLOR)"
    )


def _voi(values: np.ndarray, window: Window, function: str) -> np.ndarray:
    """Map real-world values through a VOI window to uint8 (PS3.3 C.11.2.1.2)."""
    center, width = float(window.center), float(window.width)
    if function == "SIGMOID":
        with np.errstate(over="ignore"):  # exp overflows to inf far below the centre, which maps to 0 as it should
            scaled = np.exp(values.astype(np.float32) * np.float32(-4 / width) + np.float32(4 * center / width))
            scaled = np.float32(255) / (np.float32(1) + scaled)
    elif function == "LINEAR_EXACT" or width < 1:
        # y = ((x - c) / w + 0.5) × 255, clipped. LINEAR needs a width of 1 or more: only values that are not whole
        # numbers (a parametric map's, say 0.0005-0.003 mm²/s) need a narrower window, applied exactly.
        scale = 255 / max(width, 1e-12)
        scaled = values * np.float32(scale) + np.float32((0.5 - center / max(width, 1e-12)) * 255)
    elif width == 1:
        return np.where(values > center - 0.5, np.uint8(255), np.uint8(0))
    else:
        # y = ((x - (c - 0.5)) / (w - 1) + 0.5) × 255, clipped
        scale = 255 / (width - 1)
        scaled = values * np.float32(scale) + np.float32((0.5 - (center - 0.5) / (width - 1)) * 255)
    np.clip(scaled, 0, 255, out=scaled)
    scaled += np.float32(0.5)
    return scaled.astype(np.uint8)


def _to_8_bit(values: np.ndarray, bits: int) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    shift = max(0, bits - 8)
    if values.dtype.kind == "f":
        return np.clip(values, 0, 255).astype(np.uint8)
    return (values.astype(np.uint64 if shift > 16 else np.uint32) >> shift).clip(0, 255).astype(np.uint8)


def render_frame(
    values_or_frame: np.ndarray,
    ds: Dataset,
    *,
    window: Window | None = None,
    max_side: int = WEB_SIDE,
    thumb_side: int = THUMB_SIDE,
    frame_index: int = 0,
    invert: bool = False,
    thumbnail: bool = True,
) -> RenderedFrame:
    """Return one frame as a PNG web image no larger than max_side and (unless told not to) a JPEG thumbnail.

    Integer arrays are taken as stored values (``iter_frames``) and go
    through ``modality_lut`` here; floating-point arrays are taken as
    real-world values already.  Anisotropic pixels (Pixel Spacing rows ≠
    columns, or Pixel Aspect Ratio) are resampled to square ones.

    References
    ----------
    DICOM PS3.3 C.7.6.2.1.1 and C.8.11.4 (Pixel Spacing, Imager Pixel
    Spacing), C.7.6.3.1.7 (Pixel Aspect Ratio).
    """
    if is_greyscale(ds):
        if values_or_frame.dtype.kind == "f":
            values = values_or_frame
            if not np.isfinite(values).all():
                values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        else:
            values = modality_lut(values_or_frame, ds, frame_index=frame_index)
        if window is None:
            window = default_window(ds, values, frame_index=frame_index)
        pixels = to_display(values, ds, window, invert=invert)
    else:
        window = None
        pixels = to_display(values_or_frame, ds, None)
    return _rendered(
        pixels,
        ds,
        window=window,
        max_side=max_side,
        thumb_side=thumb_side,
        frame_index=frame_index,
        thumbnail=thumbnail,
    )


def _rendered(pixels: np.ndarray, ds: Dataset, **options) -> RenderedFrame:
    """Return 8-bit display pixels as a web image and thumbnail (``web_image``), once their shape is checked."""
    if pixels.ndim not in (2, 3) or 0 in pixels.shape[:2]:
        raise RenderError("unexpected frame shape (Rows, Columns or Samples per Pixel do not match the pixel data)")
    return web_image(pixels, ds, **options)


def render_dataset(
    ds: Dataset, *, window: Window | None = None, invert: bool = False, thumbnails: bool = True
) -> Iterator[RenderedFrame]:
    """Yield every frame of the dataset rendered, frame by frame.

    Grey-scale multi-frame objects without a window in the file share one
    automatic window pooled over a sample of their frames, so a dynamic or
    cine study does not flicker from frame to frame.
    """
    with quiet_pydicom():  # reading the header's values: pydicom's warnings would quote an invalid one
        automatic = is_greyscale(ds) and header_window(ds, 0) is None and str(ds.get("Modality") or "").upper() != "CT"
        if window is None and automatic and frame_total(ds) > 1:
            window = _pooled_window(ds)
        looked_up = _looked_up(ds, window, invert=invert)
    if looked_up is not None:
        pixels, window = looked_up
        yield _rendered(
            pixels, ds, window=window, max_side=WEB_SIDE, thumb_side=THUMB_SIDE, frame_index=0, thumbnail=thumbnails
        )
        return
    for index, frame in enumerate(iter_frames(ds)):
        with quiet_pydicom():
            rendered = render_frame(frame, ds, window=window, frame_index=index, invert=invert, thumbnail=thumbnails)
        yield rendered


def _looked_up(ds: Dataset, window: Window | None, *, invert: bool) -> tuple[np.ndarray, Window] | None:
    """Return a single grey frame's display pixels and window through a table of every stored value, or None.

    For native pixel data of one frame in 8 or 16 bits whose window does not depend on its values (the file's
    own, a CT preset, or the one given): the table holds ``to_display(modality_lut(v))`` for each of the 256
    or 65,536 stored values ``v`` (pydicom's masking of unused high bits included), so each pixel costs one
    look-up instead of the float maths and pydicom's decoder set-up, with the same result pixel for pixel.
    None for anything else, which takes the general path.

    References
    ----------
    DICOM PS3.5 8.1.1 (native pixel data, Bits Stored and Allocated), PS3.3 C.11.1 and C.11.2 (Modality and
    VOI LUT).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax not in _NATIVE_LITTLE_ENDIAN or "PixelData" not in ds or not is_greyscale(ds):
        return None
    try:
        rows, columns, allocated = int(ds.Rows), int(ds.Columns), int(ds.BitsAllocated)
        stored, signed = int(ds.get("BitsStored") or allocated), int(ds.get("PixelRepresentation") or 0)
        single = int(ds.get("SamplesPerPixel") or 1) == 1 and frame_total(ds) == 1
    except (TypeError, ValueError, AttributeError):
        return None
    if not single or allocated not in (8, 16) or not 0 < stored <= allocated or signed not in (0, 1):
        return None
    if str(ds.get("VOILUTFunction") or "LINEAR").upper() not in ("LINEAR", "LINEAR_EXACT"):
        return None
    window = window or window_before_values(ds, 0)
    data = ds.PixelData
    if window is None or not isinstance(data, bytes) or len(data) < rows * columns * allocated // 8:
        return None
    raw = np.dtype(f"<u{allocated // 8}")
    codes = np.arange(2**allocated, dtype=raw).view(f"<{'i' if signed else 'u'}{allocated // 8}")
    if stored < allocated:  # as pydicom: the unused high bits shifted out, the sign extended
        np.left_shift(codes, allocated - stored, out=codes)
        np.right_shift(codes, allocated - stored, out=codes)
    table = to_display(modality_lut(codes.reshape(1, -1), ds), ds, window, invert=invert).reshape(-1)
    return np.take(table, np.frombuffer(data, dtype=raw, count=rows * columns).reshape(rows, columns)), window


_NATIVE_LITTLE_ENDIAN = (ImplicitVRLittleEndian, ExplicitVRLittleEndian)


def frame_total(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def _pooled_window(ds: Dataset) -> Window:
    total = frame_total(ds)
    step = max(1, math.ceil(total / POOLED_SAMPLE_FRAMES))
    samples = []
    for index, frame in enumerate(iter_frames(ds)):
        if index % step == 0:
            values = modality_lut(frame, ds, frame_index=index).reshape(-1)
            samples.append(values[:: max(1, values.size // (AUTO_SAMPLE_PIXELS // POOLED_SAMPLE_FRAMES))])
    return auto_window(np.concatenate(samples)) if samples else Window(0.5, 1.0, "auto")
