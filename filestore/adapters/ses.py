"""E-mail through Amazon SES (the v1 `SendEmail` API), from one configured sender.

Sent with a configuration set when one is given: its event destination publishes bounces and
complaints (see `filestore.entrypoints.email_feedback`). Without one SES still sends, and its
feedback goes only where the sender identity's own notification settings say.
"""

from __future__ import annotations

import asyncio
import re
from email.utils import formataddr, parseaddr
from typing import Any

from filestore.domain.errors import InvalidInput
from filestore.domain.ports import EmailMessage

# A deliberately plain address: local part and a dotted domain of ASCII letters, digits and the
# usual punctuation. Anything stranger (quoted local parts, comments, IP literals) is refused
# rather than interpreted, since SES and the mail systems behind it may read it differently.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _no_line_breaks(value: str, what: str) -> None:
    # CR, LF and the other line separators would start a new header: refuse, never strip.
    if any(c in value for c in "\r\n\x0b\x0c\x85\u2028\u2029\x00"):
        raise InvalidInput(f"The e-mail {what} contains a line break.")


def check_address(address: str) -> str:
    """`address` itself if it is one plain e-mail address, else `InvalidInput`."""
    _no_line_breaks(address, "address")
    name, parsed = parseaddr(address)
    if name or parsed != address or not _ADDRESS.fullmatch(address):
        raise InvalidInput("Not a valid e-mail address.")
    return address


def check_sender(sender: str) -> str:
    """A sender: `addr@example.com` or `Display Name <addr@example.com>`, normalised for SES.

    A non-ASCII display name is MIME-encoded (RFC 2047), as SES's v1 API requires.
    """
    _no_line_breaks(sender, "sender")
    name, address = parseaddr(sender)
    check_address(address)
    return formataddr((name, address), charset="utf-8") if name else address


class SesEmailSender:
    """`EmailSender` through SES `SendEmail`: plain text and HTML alternatives, UTF-8, with
    `configuration_set` if given."""

    def __init__(self, client: Any, sender: str, configuration_set: str | None = None) -> None:
        self._ses = client
        self.sender = check_sender(sender)
        self.configuration_set = configuration_set or None

    async def send(self, message: EmailMessage) -> None:
        """Send `message`; `InvalidInput` for a bad recipient or a line break in the subject."""
        to = check_address(message.to)
        _no_line_breaks(message.subject, "subject")
        options = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        await asyncio.to_thread(
            self._ses.send_email,
            **options,
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": message.text, "Charset": "UTF-8"},
                    "Html": {"Data": message.html, "Charset": "UTF-8"},
                },
            },
        )
