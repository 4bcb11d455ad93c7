"""`GET /_local/emails` of `filestore serve`: the mail the system sent, as JSON for
`Accept: application/json`, else as a page a person reads.

Who sees what is the server's call (DESIGN "Runtimes"): on a loopback address anyone on the
machine sees all mail; otherwise a caller shows a token and sees only mail to their address.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.responses import Response

Message = Mapping[str, Any]

# The page runs no script and loads nothing: mail holds file names, which users choose. A
# message's HTML is shown in an iframe that is sandboxed (no script, no form, no plugin, an
# origin of its own) and written with `srcdoc`, escaped as an attribute: it cannot close the
# frame or reach the page, and the page's policy (which a srcdoc frame inherits) blocks
# anything it would load.
_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Mail kept as one text part that is HTML (LocalStack's, older local inboxes).
_LOOKS_LIKE_HTML = re.compile(r"<(?:p|div|br|html|body|table|strong|a)\b", re.IGNORECASE)


def addressed_to(messages: Sequence[Message], address: str) -> list[Message]:
    """The messages with `address` among their recipients (e-mail addresses compared without
    case, as the users' are)."""
    wanted = address.casefold()
    return [m for m in messages if any(str(to).casefold() == wanted for to in m.get("to") or ())]


def inbox(messages: Sequence[Message], *, accept: str, recipient: str | None) -> Response:
    """The answer: JSON `{"items": [...]}` or an HTML page, newest first."""
    from starlette.responses import HTMLResponse, JSONResponse

    shown = list(messages) if recipient is None else addressed_to(messages, recipient)
    if "application/json" in accept.lower():
        return JSONResponse({"items": shown})
    return HTMLResponse(
        _page(shown, recipient),
        headers={
            "Content-Security-Policy": _PAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def _page(messages: Sequence[Message], recipient: str | None) -> str:
    whose = f"Mail to {html.escape(recipient)}" if recipient else "All mail sent"
    if messages:
        items = "\n".join(_item(m) for m in messages)
        body = f'<ol class="mail">\n{items}\n</ol>'
    else:
        body = "<p>No mail yet.</p>"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>filestore: sent mail</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem auto; max-width: 48rem; padding: 0 1rem; }}
.mail {{ list-style: none; padding: 0; }}
.mail li {{ border: 1px solid #ccc; border-radius: 6px; margin: 0 0 1rem; padding: .5rem 1rem; }}
.mail h2 {{ font-size: 1.1rem; margin: .25rem 0; }}
.meta {{ color: #555; font-size: .9rem; margin: 0 0 .5rem; }}
iframe {{ border: 1px solid #eee; width: 100%; height: 10rem; resize: vertical; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
</style>
</head>
<body>
<h1>{whose}</h1>
<p>Newest first. {len(messages)} message{"" if len(messages) == 1 else "s"}.
<a href="?">Refresh</a>; JSON with <code>Accept: application/json</code>.</p>
{body}
</body>
</html>
"""


def _when(value: object) -> str:
    """A sent time as `2026-12-02 09:14:03 UTC` (as kept, if it is not ISO 8601)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _item(message: Message) -> str:
    def text(name: str) -> str:
        value = message.get(name)
        return html.escape(str(value)) if value is not None else ""

    to = html.escape(", ".join(str(t) for t in message.get("to") or ()))
    when = _when(message.get("sent_at"))
    sent = f', <time datetime="{text("sent_at")}">{html.escape(when)}</time>' if when else ""
    return (
        f"<li><h2>{text('subject') or '(no subject)'}</h2>"
        f'<p class="meta">To {to}, from {text("source")}{sent}</p>'
        f"{_body(message)}</li>"
    )


def _body(message: Message) -> str:
    """The HTML part in a sandboxed frame, else the text part as text."""
    rich = message.get("html")
    plain = message.get("text")
    if not rich and isinstance(plain, str) and _LOOKS_LIKE_HTML.search(plain):
        rich = plain
    if rich:
        document = html.escape(str(rich), quote=True)
        return f'<iframe sandbox srcdoc="{document}" title="Message body"></iframe>'
    return f"<pre>{html.escape(str(plain or ''))}</pre>"
