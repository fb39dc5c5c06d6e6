"""Generated DICOM objects with identifiers drawn into their pixels (issue 13 §4), and radiographs without.

Every object carries a fake patient in its header (removed by de-identification) and, unless said otherwise,
the same fake name, record number and birth date drawn into the pixels with Pillow's default font, and no
Burned In Annotation attribute: the import cannot learn from the header that the pixels carry text. What the
import must do with each is said in its generator's docstring. The pixel generators (``radiograph_pixels``,
``draw_text``) also feed ``bench/burned_in_text.py``.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    OphthalmicPhotography8BitImageStorage,
    UltrasoundImageStorage,
    XRayAngiographicImageStorage,
    XRayRadiofluoroscopicImageStorage,
    generate_uid,
)

IDENTIFIERS = ("DOE, JANE", "MRN 8675309", "DOB 12/04/1961")
"""The fake identifiers drawn into the pixels (never a real patient)."""

UID_PREFIX = "1.2.826.0.1.3680043.10.1388."


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_text(pixels: np.ndarray, lines: tuple[str, ...], *, at: tuple[int, int], size: int, value: int) -> np.ndarray:
    """Return grey ``pixels`` with ``lines`` drawn from ``at`` (top left) in ``value``, ``size`` pixels high."""
    ink = Image.new("L", (pixels.shape[1], pixels.shape[0]))
    draw = ImageDraw.Draw(ink)
    x, y = at
    for line in lines:
        draw.text((x, y), line, fill=255, font=_font(size))
        y += round(size * 1.3)
    drawn = pixels.copy()
    drawn[np.asarray(ink) > 127] = value
    return drawn


def radiograph_pixels(*, width: int, height: int, seed: int, bits: int = 12) -> np.ndarray:
    """Return an anatomy-like projection radiograph without text: soft tissue, two long bones, noise.

    Unsigned ``bits``-bit values, MONOCHROME2 (bone bright). Different seeds move, widen and tilt the bones.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / width - 0.5, y / height - 0.5
    tilt = rng.uniform(-0.25, 0.25)
    u = u + tilt * v
    limb = np.exp(-((u / rng.uniform(0.28, 0.36)) ** 6))
    attenuation = 0.6 * limb
    for centre, radius in ((rng.uniform(-0.16, -0.06), rng.uniform(0.04, 0.07)), (rng.uniform(0.05, 0.14), 0.035)):
        distance = np.abs(u - centre) / radius
        shaft = np.clip(1 - distance, 0, 1)
        cortex = np.exp(-(((distance - 0.85) / 0.12) ** 2))
        attenuation += 0.5 * (shaft > 0) + 0.9 * cortex * (distance < 1.1)
    texture = Image.fromarray((rng.random((height, width)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))
    attenuation *= 1 + 0.15 * (np.asarray(texture, dtype=np.float32) / 255 - 0.5)
    picture = 1 - np.exp(-1.2 * attenuation)
    picture = picture * (1 - 0.1 * (y / height)) + rng.normal(0, 0.015, picture.shape)
    top = (1 << bits) - 1
    return np.clip(picture * top, 0, top).astype(np.uint16)


def _base(*, sop_class: str, modality: str, name: str, image_type: str = "ORIGINAL\\PRIMARY") -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid(UID_PREFIX, entropy_srcs=[name, "instance"])
    ds.StudyInstanceUID = generate_uid(UID_PREFIX, entropy_srcs=["burned-in study"])
    ds.SeriesInstanceUID = generate_uid(UID_PREFIX, entropy_srcs=[name, "series"])
    ds.Modality = modality
    ds.ImageType = image_type
    ds.PatientName = "DOE^JANE"
    ds.PatientID = "8675309"
    ds.PatientBirthDate = "19610412"
    ds.PatientSex = "F"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240102"
    ds.StudyTime = "101500"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def _grey(ds: Dataset, pixels: np.ndarray, bits: int) -> Dataset:
    ds.set_pixel_data(pixels.astype(np.uint16 if bits > 8 else np.uint8), "MONOCHROME2", bits)
    return ds


def _colour(ds: Dataset, pixels: np.ndarray) -> Dataset:
    ds.set_pixel_data(pixels.astype(np.uint8), "RGB", 8)
    return ds


def _write(folder: Path, name: str, ds: Dataset) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return [path]


def _labelled_radiograph(width: int, height: int, seed: int, bits: int = 12) -> np.ndarray:
    pixels = radiograph_pixels(width=width, height=height, seed=seed, bits=bits)
    return draw_text(pixels, IDENTIFIERS, at=(width // 20, height // 20), size=height // 20, value=(1 << bits) - 1)


def make_xa_with_identifiers(folder: Path) -> list[Path]:
    """An X-ray angiogram (512²) with the identifiers drawn in; held for review by its modality."""
    ds = _base(sop_class=XRayAngiographicImageStorage, modality="XA", name="xa")
    return _write(folder, "xa", _grey(ds, _labelled_radiograph(512, 512, seed=1, bits=10), 10))


def make_rf_with_identifiers(folder: Path) -> list[Path]:
    """A fluoroscopy frame (512²) with the identifiers drawn in; held for review by its modality."""
    ds = _base(sop_class=XRayRadiofluoroscopicImageStorage, modality="RF", name="rf")
    return _write(folder, "rf", _grey(ds, _labelled_radiograph(512, 512, seed=2, bits=10), 10))


def make_dx_with_identifiers(folder: Path) -> list[Path]:
    """A digital radiograph (640²) with the identifiers drawn in beside anatomy.

    Radiographs are not held for their modality: the import must find the text in the pixels, hold the image
    and store the boxes around the text as pre-drawn masks.
    """
    ds = _base(sop_class=DigitalXRayImageStorageForPresentation, modality="DX", name="dx-text")
    ds.PresentationIntentType = "FOR PRESENTATION"
    return _write(folder, "dx-text", _grey(ds, _labelled_radiograph(640, 640, seed=3), 12))


def make_mg_with_identifiers(folder: Path) -> list[Path]:
    """A mammogram (512×640) with the identifiers drawn in; found in the pixels and held like ``make_dx``."""
    ds = _base(sop_class=DigitalMammographyXRayImageStorageForPresentation, modality="MG", name="mg-text")
    pixels = radiograph_pixels(width=512, height=640, seed=4)
    pixels = draw_text(pixels, IDENTIFIERS, at=(300, 24), size=28, value=4095)
    return _write(folder, "mg-text", _grey(ds, pixels, 12))


def make_op_with_identifiers(folder: Path) -> list[Path]:
    """An ophthalmic photograph (colour, 640×480: an orange fundus) with the identifiers drawn in; held by its
    modality and SOP class."""
    y, x = np.mgrid[0:480, 0:640]
    fundus = np.exp(-(((x - 320) / 220.0) ** 2 + ((y - 240) / 200.0) ** 2))
    rgb = np.stack([200 * fundus, 90 * fundus, 30 * fundus], axis=-1)
    rgb = np.stack([draw_text(rgb[..., c], IDENTIFIERS, at=(16, 16), size=24, value=255) for c in range(3)], -1)
    ds = _base(sop_class=OphthalmicPhotography8BitImageStorage, modality="OP", name="op")
    return _write(folder, "op", _colour(ds, rgb))


def make_ct_screen_save(folder: Path) -> list[Path]:
    """A CT "screen save" (CT Image Storage, Image Type DERIVED\\SECONDARY\\SCREEN SAVE, 512²) with the
    identifiers drawn in; held for review by its Image Type although a plain CT slice is not."""
    ds = _base(sop_class=CTImageStorage, modality="CT", name="ct-screen", image_type="DERIVED\\SECONDARY\\SCREEN SAVE")
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    pixels = radiograph_pixels(width=512, height=512, seed=5)
    pixels = draw_text(pixels, IDENTIFIERS, at=(20, 20), size=24, value=4095)
    return _write(folder, "ct-screen", _grey(ds, pixels, 12))


def make_us_flagged_no(folder: Path) -> list[Path]:
    """An ultrasound (colour, 640×480) with the identifiers drawn in and Burned In Annotation wrongly ``NO``;
    held for review whatever the flag says."""
    rng = np.random.default_rng(6)
    speckle = np.clip(rng.gamma(2.0, 40.0, (480, 640)), 0, 255)
    y, x = np.mgrid[0:480, 0:640]
    speckle[(y < 110) | (np.abs(x - 320) > (y - 60) * 0.9)] = 0  # the sector, black around it
    speckle = draw_text(speckle, IDENTIFIERS, at=(16, 16), size=24, value=255)
    ds = _base(sop_class=UltrasoundImageStorage, modality="US", name="us-no")
    ds.BurnedInAnnotation = "NO"
    return _write(folder, "us-no", _colour(ds, np.repeat(speckle[..., None], 3, axis=-1)))


def make_dx_marker_only(folder: Path) -> list[Path]:
    """A digital radiograph (640²) whose only text is an "L" laterality marker: not held."""
    ds = _base(sop_class=DigitalXRayImageStorageForPresentation, modality="DX", name="dx-marker")
    pixels = draw_text(radiograph_pixels(width=640, height=640, seed=7), ("L",), at=(40, 40), size=48, value=4095)
    return _write(folder, "dx-marker", _grey(ds, pixels, 12))


def make_dx_without_text(folder: Path) -> list[Path]:
    """A digital radiograph (640²) with no text at all: not held."""
    ds = _base(sop_class=DigitalXRayImageStorageForPresentation, modality="DX", name="dx-clean")
    return _write(folder, "dx-clean", _grey(ds, radiograph_pixels(width=640, height=640, seed=8), 12))
