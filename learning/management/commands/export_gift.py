from learning.management.commands import export_questions


class Command(export_questions.Command):
    help = "Export questions as GIFT: one topic (--topic) or the whole bank."
