from learning.management.commands import import_questions


class Command(import_questions.Command):
    help = "Import questions from a GIFT file (--format aiken for Aiken): see import_questions."
    default_format = "gift"
