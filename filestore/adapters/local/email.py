"""An e-mail sender that also logs what it sends, so `filestore serve` shows mail in its log."""

from __future__ import annotations

import logging

from filestore.domain.ports import EmailMessage, EmailSender

log = logging.getLogger("filestore.email")


class LoggedEmailSender:
    """Sends through `inner` (SES on an emulator), then prints the message to the log."""

    def __init__(self, inner: EmailSender) -> None:
        self.inner = inner

    async def send(self, message: EmailMessage) -> None:
        await self.inner.send(message)
        log.info("e-mail to %s: %s\n%s", message.to, message.subject, message.text)
