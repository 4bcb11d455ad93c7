"""Sign-in as template.yaml sets it up: who may sign up, MFA, the web app's and the CLI's app
clients, the managed login, and what a deployment tells its clients."""

from __future__ import annotations

import re
from typing import Any

import pytest

from filestore.entrypoints.sign_up import EmailDomains
from tests.support.template import Intrinsic, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
PARAMETERS: dict[str, dict[str, Any]] = TEMPLATE["Parameters"]
CONDITIONS: dict[str, Any] = TEMPLATE["Conditions"]
POOL = RESOURCES["UserPool"]["Properties"]
CLIENTS = {"web": "UserPoolClient", "cli": "CliClient"}
PASSWORD_FLOWS = {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"}


def client(kind: str) -> dict[str, Any]:
    props: dict[str, Any] = RESOURCES[CLIENTS[kind]]["Properties"]
    return props


def test_the_sign_up_policy_is_a_parameter_that_defaults_to_invitations() -> None:
    policy = PARAMETERS["SignUpPolicy"]
    assert policy["AllowedValues"] == ["open", "invite-only", "email-domains"]
    assert policy["Default"] == "invite-only"
    assert CONDITIONS["IsInviteOnly"] == Intrinsic(
        "Equals", [Intrinsic("Ref", "SignUpPolicy"), "invite-only"]
    )
    assert POOL["AdminCreateUserConfig"] == {
        "AllowAdminCreateUserOnly": Intrinsic("If", ["IsInviteOnly", True, False])
    }


def test_the_pool_calls_the_pre_sign_up_trigger_only_with_the_domain_allow_list() -> None:
    assert CONDITIONS["RestrictsSignUpToDomains"] == Intrinsic(
        "Equals", [Intrinsic("Ref", "SignUpPolicy"), "email-domains"]
    )
    assert POOL["LambdaConfig"]["PreSignUp"] == Intrinsic(
        "If",
        [
            "RestrictsSignUpToDomains",
            Intrinsic("GetAtt", "PreSignUpFunction.Arn"),
            Intrinsic("Ref", "AWS::NoValue"),
        ],
    )
    function = RESOURCES["PreSignUpFunction"]
    assert function["Properties"]["Handler"] == "filestore.entrypoints.cognito.pre_sign_up"
    assert function["Properties"]["Environment"]["Variables"] == {
        "FILESTORE_SIGNUP_EMAIL_DOMAINS": Intrinsic("Ref", "SignUpEmailDomains")
    }
    permission = RESOURCES["PreSignUpPermission"]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["SourceArn"] == Intrinsic("GetAtt", "UserPool.Arn")


def test_the_allow_list_cannot_be_left_empty() -> None:
    rule = TEMPLATE["Rules"]["EmailDomainsNeedDomains"]
    assert rule["RuleCondition"] == Intrinsic(
        "Equals", [Intrinsic("Ref", "SignUpPolicy"), "email-domains"]
    )
    [assertion] = rule["Assertions"]
    assert assertion["Assert"] == Intrinsic(
        "Not", [Intrinsic("Equals", [Intrinsic("Ref", "SignUpEmailDomains"), ""])]
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("example.com", True),
        ("example.com,example.org", True),
        ("example.com, mail.example.org ", True),
        ("xn--bcher-kva.example", True),
        ("example", False),
        ("@example.com", False),
        ("*.example.com", False),
        ("example.com;evil.com", False),
        ("example.com,", False),
        ("-a.example", False),
        ("a-.example", False),
        ("a..example", False),
    ],
)
def test_the_parameter_takes_what_the_trigger_reads(value: str, accepted: bool) -> None:
    pattern = PARAMETERS["SignUpEmailDomains"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    if accepted:
        EmailDomains.parse(value)  # the trigger reads every value the stack accepts


def test_the_default_quota_is_a_parameter_every_function_gets() -> None:
    assert PARAMETERS["DefaultQuotaBytes"]["Default"] == 10 * 1024**3
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FILESTORE_DEFAULT_QUOTA_BYTES"] == Intrinsic("Ref", "DefaultQuotaBytes")


def test_mfa_is_off_optional_or_on_with_an_authenticator_app_only() -> None:
    assert PARAMETERS["MfaConfiguration"]["AllowedValues"] == ["OFF", "OPTIONAL", "ON"]
    assert POOL["MfaConfiguration"] == Intrinsic("Ref", "MfaConfiguration")
    assert POOL["EnabledMfas"] == Intrinsic(
        "If", ["HasMfa", ["SOFTWARE_TOKEN_MFA"], Intrinsic("Ref", "AWS::NoValue")]
    )
    assert "SmsConfiguration" not in POOL


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_both_clients_are_public_code_flow_clients_without_password_flows(kind: str) -> None:
    props = client(kind)
    assert props["GenerateSecret"] is False
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props["AllowedOAuthFlows"] == ["code"]  # no implicit flow, no client credentials
    assert "openid" in props["AllowedOAuthScopes"]
    assert not PASSWORD_FLOWS & set(props["ExplicitAuthFlows"])
    assert props["SupportedIdentityProviders"] == ["COGNITO"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    # The ID token carries `email`, which the API reads.
    assert "email" in props["ReadAttributes"]


def test_the_web_client_signs_in_only_through_the_managed_login() -> None:
    props = client("web")
    assert props["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["CallbackURLs"] == Intrinsic("Ref", "WebCallbackUrls")
    assert props["LogoutURLs"] == Intrinsic("Ref", "WebLogoutUrls")


def test_the_cli_client_uses_srp_or_a_loopback_redirect_and_refresh_tokens() -> None:
    props = client("cli")
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["CallbackURLs"] == Intrinsic("Ref", "CliCallbackUrls")
    [url] = PARAMETERS["CliCallbackUrls"]["Default"].split(",")
    # Cognito takes plain http for localhost only.
    assert re.fullmatch(r"http://localhost:\d+/callback", url)


@pytest.mark.parametrize("parameter", ["WebCallbackUrls", "WebLogoutUrls", "CliCallbackUrls"])
def test_redirect_urls_default_to_localhost(parameter: str) -> None:
    for url in PARAMETERS[parameter]["Default"].split(","):
        assert url.startswith("http://localhost:"), url


def test_the_managed_login_has_a_domain() -> None:
    domain = RESOURCES["UserPoolDomain"]["Properties"]
    assert domain["UserPoolId"] == Intrinsic("Ref", "UserPool")
    chosen, default = domain["Domain"].value[1:]
    assert chosen == Intrinsic("Ref", "CognitoDomainPrefix")
    assert default.tag == "Join"
    pattern = PARAMETERS["CognitoDomainPrefix"]["AllowedPattern"]
    assert re.fullmatch(pattern, "filestore-prod-0123456789ab")
    assert not re.fullmatch(pattern, "Filestore")
    assert not re.fullmatch(pattern, "-filestore")


def test_the_outputs_name_both_clients_and_the_managed_login() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs["WebClientId"]["Value"] == Intrinsic("Ref", "UserPoolClient")
    assert outputs["CliClientId"]["Value"] == Intrinsic("Ref", "CliClient")
    assert "${UserPoolDomain}.auth.${AWS::Region}" in outputs["CognitoDomainUrl"]["Value"].value


def test_the_trash_retention_is_a_parameter_every_function_gets() -> None:
    """The sweep purges by it and the API tells `purge_at` by it: the same value for both."""
    assert PARAMETERS["TrashDays"]["Default"] == 30
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FILESTORE_TRASH_DAYS"] == Intrinsic("Ref", "TrashDays")
