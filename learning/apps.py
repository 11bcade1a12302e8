from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = "Course"

    def ready(self) -> None:
        from learning import auth_messages, checks, page_cache  # noqa: F401 - checks registers

        auth_messages.connect()
        page_cache.connect_signals()
