"""Who may sign up: the allow-list of e-mail domains the Cognito pre-sign-up trigger enforces.

A domain is matched whole, ignoring case: with `example.com` listed, `Ann@Example.COM` may sign
up and `ann@mail.example.com` may not (list `mail.example.com` too). Internationalised domains
are compared in their ASCII (IDNA) form, so `bücher.example` and `xn--bcher-kva.example` are one.
"""

from __future__ import annotations

from collections.abc import Iterable


class EmailDomains:
    """An allow-list of e-mail domains. An empty list admits no one (the trigger that enforces
    it is only attached when sign-up is restricted, so empty means misconfigured: fail closed)."""

    def __init__(self, domains: Iterable[str]) -> None:
        normalized = {normalize_domain(domain) for domain in domains}
        if None in normalized:
            raise ValueError("the allow-list holds something that is not a domain name")
        self.domains: frozenset[str] = frozenset(d for d in normalized if d is not None)

    @classmethod
    def parse(cls, value: str) -> EmailDomains:
        """From a comma-separated setting ("example.com, example.org")."""
        return cls(item for item in value.split(",") if item.strip())

    def admits(self, email: str) -> bool:
        """Whether the address's domain is one of the list."""
        domain = email_domain(email)
        return domain is not None and domain in self.domains


def email_domain(email: str) -> str | None:
    """The normalized domain of an e-mail address, or None if it has none."""
    # The last "@": a quoted local part may hold one of its own.
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return None
    return normalize_domain(domain)


def normalize_domain(domain: str) -> str | None:
    """Lower-case ASCII (IDNA) form without the root's trailing dot; None if not a domain."""
    name = domain.strip().removesuffix(".").lower()
    if not name or any(c.isspace() or c in "@/\\" for c in name):
        return None
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:  # an empty or over-long label, or characters IDNA refuses
        return None
    labels = ascii_name.split(".")
    if any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        return None
    return ascii_name
