"""`GET /_local/emails`'s answer (`inbox`): JSON or a page, and only the caller's mail when the
server says whose."""

from __future__ import annotations

import json

from filestore.entrypoints.local.inbox import inbox

MAIL = [
    {"id": "2", "source": "f@x.test", "to": ["Bob@Example.com"], "subject": "Stored",
     "text": "<script>alert(1)</script>.txt was stored"},
    {"id": "1", "source": "f@x.test", "to": ["alice@example.com"], "subject": "Hi", "text": "a"},
]  # fmt: skip


def test_json_for_programs_with_every_message_when_no_recipient_is_given() -> None:
    answer = inbox(MAIL, accept="application/json", recipient=None)
    assert answer.media_type == "application/json"
    assert json.loads(answer.body) == {"items": MAIL}


def test_only_the_recipients_mail_whatever_the_case_of_the_address() -> None:
    answer = inbox(MAIL, accept="application/json", recipient="bob@example.com")
    assert [m["id"] for m in json.loads(answer.body)["items"]] == ["2"]


def test_a_readable_page_for_anyone_else_that_runs_nothing_from_the_mail() -> None:
    answer = inbox(MAIL, accept="text/html,*/*;q=0.8", recipient="alice@example.com")
    page = bytes(answer.body).decode()
    assert answer.media_type == "text/html"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "Mail to alice@example.com" in page
    assert "<h2>Hi</h2>" in page
    assert "Stored" not in page  # Bob's
    everyone = bytes(inbox(MAIL, accept="", recipient=None).body).decode()
    assert "<script>" not in everyone
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt was stored" in everyone
    assert "2 messages" in everyone
    assert "No mail yet." in bytes(inbox([], accept="", recipient=None).body).decode()


def test_an_html_body_is_rendered_in_a_sandboxed_frame_it_cannot_leave() -> None:
    rich = {
        "id": "3", "source": "f@x.test", "to": ["c@example.com"], "subject": "Stored",
        "text": "plain", "html": '<p>ok</p>"></iframe><script>alert(1)</script>',
        "sent_at": "2026-12-02T09:14:03.512301+00:00",
    }  # fmt: skip
    page = bytes(inbox([rich], accept="", recipient=None).body).decode()
    [frame] = [line for line in page.splitlines() if "<iframe" in line]
    assert '<iframe sandbox srcdoc="&lt;p&gt;ok&lt;/p&gt;&quot;&gt;&lt;/iframe&gt;' in frame
    assert "<script>" not in page and "</iframe><script>" not in page
    assert "2026-12-02 09:14:03 UTC" in page
    assert "<pre>plain</pre>" not in page  # the HTML part is the one shown


def test_a_text_part_that_is_html_is_shown_as_html_and_plain_text_as_text() -> None:
    legacy = {"id": "4", "source": "f@x.test", "to": ["d@example.com"], "subject": "S",
              "text": "<p>Your file <strong>a.txt</strong> has been stored.</p>"}  # fmt: skip
    page = bytes(inbox([legacy, MAIL[1]], accept="", recipient=None).body).decode()
    assert 'srcdoc="&lt;p&gt;Your file &lt;strong&gt;a.txt' in page
    assert "<pre>a</pre>" in page
