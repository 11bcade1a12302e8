"""The e-mail backend of `make run`: Django's console backend, but with the text printed as
it reads rather than as it travels (quoted-printable folds long lines with a trailing "="),
so the password reset link in the terminal is one line to copy."""

from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends import console


class ReadableConsoleEmailBackend(console.EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        mime = message.message()
        headers = "".join(
            f"{name}: {value}\n"
            for name, value in mime.items()
            if name.lower() != "content-transfer-encoding"
        )
        plain: Any = mime.get_body(preferencelist=("plain",))
        text = plain.get_content() if plain is not None else mime.as_string()
        self.stream.write(f"{headers}\n{text.rstrip()}\n{'-' * 79}\n")
