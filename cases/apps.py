from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Teaching cases"

    def ready(self) -> None:
        from .page_cache import connect_signals

        connect_signals(self.apps)
