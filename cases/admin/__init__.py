"""The authoring screen: faculty edit their own cases, editors edit and publish all.

One module per screen, each registering its admin or holding the plain views an admin wires into its URLs:
``case`` (the case screen and its workflow actions) with ``case_form`` (its form and answer lists), ``review``
(the editors' queue), ``revision_review`` (authors' changes to published cases), ``stages`` (a stage and its
images), ``images`` (the image rows, their upload and mask), ``annotations`` (the annotation editor's JSON
API), ``new_case`` (a case started from a DICOM study), ``image_check`` (held images, unconfirmed stages,
all labels confirmed at once), ``topics``, and ``site`` (the admin's "view on site"); ``access`` holds what they share.
"""

from . import case, stages, topics  # noqa: F401 - importing registers the screens
from .site import view_on_site

__all__ = ["view_on_site"]
