from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Teaching cases"

    def ready(self) -> None:
        from . import page_cache, reader_pages

        page_cache.connect_signals(self.apps)
        reader_pages.connect_signals(self.apps)
        post_migrate.connect(page_cache.upgraded, sender=self, dispatch_uid="page-cache-upgraded")
