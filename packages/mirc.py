"""Read an RSNA MIRC teaching-file document (a zip of a MIRCdocument XML file and its images) as a case document.

A MIRCdocument (RSNA MIRC, ``<MIRCdocument>``) has a ``<title>``, ``<author>``s, ``<keywords>``, sections
(``<section heading="History">`` with ``<p>`` paragraphs, lists, ``<patient>`` and ``<image src=…>``), an
``<image-section>`` of images (each ``<image src>`` with an ``<image-caption>`` and ``<alternative-image
role="original-format" src="….dcm">``), ``<references>``, index elements (``<history>``, ``<findings>``,
``<diagnosis>``, ``<differential-diagnosis>``, ``<discussion>``, ``<modality>``) and a ``<phi>`` block.

Mapped: History → brief history, Findings → findings (a paragraph each), Diagnosis → diagnosis, Differential
Diagnosis → differential entries, Discussion and any other section → discussion, images → one stage (held for
review, its label unconfirmed), references → references, authors' names and affiliations → credit line.
Dropped (docs/packages.md): ``<phi>``, and in ``<patient>`` the name, ids, MRN, race, species and breed; the age
is kept in years only up to 89 (older ages identify: HIPAA Safe Harbor), the sex is kept; authors' contacts.
MIRC titles often name the diagnosis: the title becomes a keyword (hidden until the reveal) and the case gets
a neutral title. The XML is parsed with defusedxml (no entities, no external references).
"""

import posixpath
import re
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from cases.models import Modality, Region

from .archive import PackageArchive, PackageRefused

MAX_XML_BYTES = 5 * 1024**2
PICTURES = (".png", ".jpg", ".jpeg")
NOT_GIVEN = "Not given in the MIRC document."
# How refusals of the mapped document name it: its path in the zip is left out of messages and the operator's
# log, for a MIRC export's folder is often named after the patient.
LABEL = "The MIRC document"
HEADINGS = {
    "history": "history",
    "clinical history": "history",
    "findings": "findings",
    "imaging findings": "findings",
    "diagnosis": "diagnosis",
    "final diagnosis": "diagnosis",
    "differential diagnosis": "differential",
    "differential": "differential",
    "discussion": "discussion",
}
REGION_WORDS = {
    Region.BRAIN: ("brain", "head", "neuro"),
    Region.SPINE: ("spine", "spinal"),
    Region.CHEST: ("chest", "lung", "thorax"),
    Region.BREAST: ("breast", "mammo"),
    Region.CARDIAC: ("heart", "cardiac", "vascular"),
    Region.ABDOMEN: ("abdomen", "liver", "kidney", "bowel", "gastro"),
    Region.PELVIS: ("pelvis", "hip"),
    Region.UPPER_LIMB: ("shoulder", "elbow", "wrist", "hand", "arm"),
    Region.LOWER_LIMB: ("knee", "ankle", "foot", "leg", "femur"),
}


def is_mirc(archive: PackageArchive) -> bool:
    return _document_member(archive) is not None


def _document_member(archive: PackageArchive) -> str | None:
    for name in archive.names():
        small_xml = name.lower().endswith(".xml") and archive.members[name].file_size <= MAX_XML_BYTES
        if small_xml and b"<MIRCdocument" in archive.read(name)[:4096]:
            return name
    return None


def mirc_document(archive: PackageArchive) -> tuple[str, dict, object]:
    """Return (``LABEL``, case content, reader) for the MIRC document of the zip, as ``importer`` takes them."""
    name = _document_member(archive)
    try:
        root = safe_xml.fromstring(archive.read(name))
    except (safe_xml.ParseError, DefusedXmlException) as error:
        reason = f"is not well-formed XML ({type(error).__name__})"
        raise PackageRefused(f"{name} {reason}.", logged=f"the MIRC document {reason}") from None
    if root.tag != "MIRCdocument":
        raise PackageRefused(f"{name} is not a MIRCdocument.", logged="the XML is not a MIRCdocument")
    folder = posixpath.dirname(name)
    sections = _sections(root)
    images, files = _images(root, folder, archive)
    content = {
        "title": "Case imported from MIRC",
        "credit": _credit(root)[:300],
        "keywords": ", ".join(filter(None, [_text(root.find("title")), _text(root.find("keywords"))]))[:300],
        "region": _region(root),
        "brief_history": sections.get("history") or _text(root.find("history")) or NOT_GIVEN,
        "diagnosis": (sections.get("diagnosis") or _text(root.find("diagnosis")) or NOT_GIVEN)[:200],
        "discussion": sections.get("discussion") or _text(root.find("discussion")),
        "findings": sections.get("findings_list") or _paragraphs(root.find("findings")),
        "differential": [
            {"diagnosis": entry[:200], "reasoning": NOT_GIVEN, "topic": None}
            for entry in sections.get("differential_list") or _paragraphs(root.find("differential-diagnosis"))
        ],
        "references": [{"citation": _text(ref), "url": ""} for ref in root.iter("reference") if _text(ref)],
        "stages": [_stage(root, images)] if images else [],
        "questions": [],
        **_patient(root),
    }
    return LABEL, content, lambda member: archive.read(files[member])


def _text(element: Element | None) -> str:
    """Return an element's text with its children's, whitespace collapsed; patient and PHI blocks left out."""
    if element is None:
        return ""
    return re.sub(r"\s+", " ", "".join(_pieces(element))).strip()


def _pieces(element: Element) -> list[str]:
    pieces = [element.text or ""]
    for child in element:
        if child.tag not in ("patient", "phi"):
            pieces += _pieces(child)
        pieces.append(child.tail or "")
    return pieces


def _paragraphs(element: Element | None) -> list[str]:
    """Return the paragraphs or list items of an element, else its whole text as one."""
    if element is None:
        return []
    items = [_text(item) for item in element.iter() if item.tag in ("p", "li")]
    items = [item for item in items if item]
    return items or ([_text(element)] if _text(element) else [])


def _sections(root: Element) -> dict:
    found: dict = {}
    others = []
    for section in root.iter("section"):
        heading = (section.get("heading") or "").strip()
        kind = HEADINGS.get(heading.lower())
        if kind in ("findings", "differential"):
            found[f"{kind}_list"] = _paragraphs(section)
        elif kind:
            found[kind] = "\n\n".join(_paragraphs(section))
        elif _paragraphs(section):
            others.append(f"## {heading or 'Notes'}\n\n" + "\n\n".join(_paragraphs(section)))
    if others:
        found["discussion"] = "\n\n".join(filter(None, [found.get("discussion", ""), *others]))
    return found


def _images(root: Element, folder: str, archive: PackageArchive) -> tuple[list[dict], dict[str, str]]:
    images, files, seen = [], {}, set()
    for element in root.iter("image"):
        source = posixpath.normpath(posixpath.join(folder, element.get("src") or ""))
        if not source.lower().endswith(PICTURES) or source in seen:
            continue
        seen.add(source)
        number = len(images) + 1
        web = f"images/1-{number}{posixpath.splitext(source)[1].lower()}"
        files[web] = source
        dicom = None
        for alternative in element.iter("alternative-image"):
            original = posixpath.normpath(posixpath.join(folder, alternative.get("src") or ""))
            dicom_given = alternative.get("role") == "original-format" and original.lower().endswith(".dcm")
            if dicom_given and archive.has(original):
                dicom = f"dicom/1-{number}.dcm"
                files[dicom] = original
        caption = _text(element.find("image-caption"))[:300]
        images.append(_image(web, dicom, caption))
    return images, files


def _image(web: str, dicom: str | None, caption: str) -> dict:
    return {
        "file": web,
        "dicom": dicom,
        "thumbnail": True,
        "frame_number": 1,
        "caption": caption,
        "alt_text": "",
        "pixel_spacing_mm": None,
        "slice_position_mm": None,
        "window_center": None,
        "window_width": None,
        "is_key": False,
        # Pictures from elsewhere may carry burned-in text: the author looks at each before publishing.
        "held_for_review": True,
        "masks": [],
        "annotations": [],
    }


def _stage(root: Element, images: list[dict]) -> dict:
    modality = _text(root.find("modality")).upper()[:2]
    known = {choice.value for choice in Modality}
    modality = {"DX": "XR", "CR": "XR"}.get(modality, modality)
    return {
        "modality": modality if modality in known else Modality.OTHER.value,
        "phase": "",
        "plane": "",
        "sequence": "",
        "technique": "",
        "caption": "",
        "body_part": "",
        "after_reveal": False,
        "label_confirmed": False,
        "study_day": None,
        "images": images,
    }


def _credit(root: Element) -> str:
    names = []
    for author in root.iter("author"):
        name, affiliation = _text(author.find("name")), _text(author.find("affiliation"))
        names.append(f"{name} ({affiliation})" if name and affiliation else name)
    return "; ".join(filter(None, names))


def _region(root: Element) -> str:
    words = " ".join(_text(root.find(tag)).lower() for tag in ("anatomy", "organ-system", "category", "keywords"))
    for region, markers in REGION_WORDS.items():
        if any(marker in words for marker in markers):
            return region.value
    return Region.WHOLE_BODY.value


def _patient(root: Element) -> dict:
    """Keep the patient's sex and an age under 90 in years; nothing else of ``<patient>`` is read."""
    patient = root.find(".//patient")
    if patient is None:
        return {}
    values: dict = {}
    sex = _text(patient.find("pt-sex")).upper()[:1]
    if sex in ("M", "F", "O"):
        values["patient_sex"] = sex
    years = _text(patient.find("pt-age/years"))
    if years.isascii() and years.isdigit() and int(years) < 90:
        values["patient_age_years"] = int(years)
    return values
