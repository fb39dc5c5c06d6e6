from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Teaching cases"

    def ready(self) -> None:
        from . import page_cache, reader_pages

        page_cache.connect_signals(self.apps)
        reader_pages.connect_signals(self.apps)
