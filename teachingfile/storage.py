"""The static files storage: whitenoise's compressed, hashed files, with the pages' JavaScript modules
importing each other by their hashed names too."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """A module's ``import … from "./x.js"`` names x's hashed file, so a new release never runs beside a
    cached old module (see docs/decisions.md, "Viewer modules")."""

    support_js_module_import_aggregation = True
