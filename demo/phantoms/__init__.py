"""Deterministic synthetic phantoms for the teaching file's demo content.

Every image is drawn from simple geometry with numpy and Pillow, carries a
small burned-in "SYNTHETIC" label and contains no patient data.  The same
options always give byte-identical pixels.
"""

from .drawing import LABEL, LABEL_ON_DARK, PhantomError
from .radiograph import PHANTOMS, pelvis_radiograph, render

__all__ = ["LABEL", "LABEL_ON_DARK", "PHANTOMS", "PhantomError", "pelvis_radiograph", "render"]
