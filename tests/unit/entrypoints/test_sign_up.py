"""The pre-sign-up trigger: e-mail domains on the allow-list sign up, others are refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from filestore.entrypoints import cognito
from filestore.entrypoints.runtime import runtime
from filestore.entrypoints.sign_up import EmailDomains, email_domain, normalize_domain
from filestore.settings import Settings
from tests.support.lambda_events import LambdaContext, load_event


@pytest.fixture
def allowed(request: pytest.FixtureRequest) -> Iterator[str]:
    """The allow-list the trigger reads from its settings (default: two domains)."""
    domains = getattr(request, "param", "example.com, Example.ORG")
    runtime.set_settings(Settings(signup_email_domains=domains))
    yield domains
    runtime.set_settings(None)


def sign_up(email: str | None, trigger: str = "PreSignUp_SignUp") -> dict[str, Any]:
    event = load_event("cognito_pre_sign_up")
    event["triggerSource"] = trigger
    if email is None:
        del event["request"]["userAttributes"]["email"]
    else:
        event["request"]["userAttributes"]["email"] = email
    return event


@pytest.mark.parametrize(
    "email",
    ["alice@example.com", "Alice@EXAMPLE.com", "bob@example.org", "  carol@example.com. "],
)
def test_an_address_at_a_listed_domain_signs_up_unchanged(allowed: str, email: str) -> None:
    event = sign_up(email)
    assert cognito.pre_sign_up(event, LambdaContext()) == sign_up(email)
    # Nothing is confirmed or verified on the person's behalf.
    assert event["response"] == {
        "autoConfirmUser": False,
        "autoVerifyEmail": False,
        "autoVerifyPhone": False,
    }


@pytest.mark.parametrize(
    "email",
    [
        "mallory@evil.com",
        "mallory@mail.example.com",  # a subdomain is another domain
        "mallory@example.com.evil.com",
        "mallory@notexample.com",
        "mallory@example.co",
        '"someone@example.com"@evil.com',  # the domain is after the last @
    ],
)
def test_an_address_elsewhere_is_refused_with_a_clear_message(allowed: str, email: str) -> None:
    with pytest.raises(cognito.SignUpRefused) as refused:
        cognito.pre_sign_up(sign_up(email), LambdaContext())
    message = str(refused.value)
    assert email.rpartition("@")[2] in message
    assert "not open here" in message
    assert "example.org" not in message  # the list itself stays private


@pytest.mark.parametrize("email", [None, "", "no-at-sign", "@example.com", "alice@"])
def test_a_sign_up_without_an_address_is_refused(allowed: str, email: str | None) -> None:
    with pytest.raises(cognito.SignUpRefused, match="e-mail address"):
        cognito.pre_sign_up(sign_up(email), LambdaContext())


def test_the_first_sign_in_through_another_identity_provider_is_judged_too(allowed: str) -> None:
    with pytest.raises(cognito.SignUpRefused):
        cognito.pre_sign_up(sign_up("eve@evil.com", "PreSignUp_ExternalProvider"), LambdaContext())
    event = sign_up("eve@example.com", "PreSignUp_ExternalProvider")
    assert cognito.pre_sign_up(event, LambdaContext()) == event


def test_an_administrator_may_invite_anyone(allowed: str) -> None:
    event = sign_up("contractor@elsewhere.net", "PreSignUp_AdminCreateUser")
    event["callerContext"]["clientId"] = "CLIENT_ID_NOT_APPLICABLE"
    assert cognito.pre_sign_up(event, LambdaContext()) == event


@pytest.mark.parametrize("allowed", ["", " , ", "not a domain, example.com"], indirect=True)
def test_a_missing_or_broken_list_refuses_everyone(allowed: str) -> None:
    with pytest.raises(cognito.SignUpRefused):
        cognito.pre_sign_up(sign_up("alice@example.com"), LambdaContext())


def test_international_domains_match_in_either_spelling() -> None:
    domains = EmailDomains.parse("bücher.example")
    assert domains.domains == {"xn--bcher-kva.example"}
    assert domains.admits("anna@BÜCHER.example")
    assert domains.admits("anna@xn--bcher-kva.example")
    assert not domains.admits("anna@bucher.example")


@pytest.mark.parametrize(
    "domain", ["", ".", "a..b", "-a.example", "a-.example", "a b.example", "a@b", "x" * 64 + ".io"]
)
def test_what_is_not_a_domain_name_is_named_so(domain: str) -> None:
    assert normalize_domain(domain) is None
    with pytest.raises(ValueError, match="not a domain name"):
        EmailDomains([domain])


def test_the_domain_of_an_address() -> None:
    assert email_domain("Ann@Example.COM") == "example.com"
    assert email_domain("ann@example.com.") == "example.com"
    assert email_domain("ann") is None
