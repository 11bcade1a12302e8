from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = "Course"

    def ready(self) -> None:
        from learning import checks  # noqa: F401 - registers the system checks
