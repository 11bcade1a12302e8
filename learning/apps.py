from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = "Course"

    def ready(self) -> None:
        from learning import auth_messages, checks  # noqa: F401 - registers the system checks

        auth_messages.connect()
