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


WEB_ORIGIN = Intrinsic("Sub", "https://${WebDistribution.DomainName}")
WEB_ROOT = Intrinsic("Sub", "https://${WebDistribution.DomainName}/")


def test_the_public_client_sends_browsers_back_to_the_web_app_or_the_cli_loopback() -> None:
    props = client("web")
    expected = [WEB_ROOT, Intrinsic("Ref", "CliRedirectUri")]
    assert props["CallbackURLs"] == expected
    assert props["LogoutURLs"] == expected
    assert props["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    # The managed login is the way in: no password flow, SRP at most (the password never
    # leaves the machine).
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH"]


def test_the_public_client_rotates_refresh_tokens_and_keeps_the_session_times() -> None:
    props = client("web")
    assert props["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 60}
    # Rotation refuses the REFRESH_TOKEN_AUTH flow: it must not be listed (nor left to
    # Cognito's defaults, which include it).
    assert "ALLOW_REFRESH_TOKEN_AUTH" not in props["ExplicitAuthFlows"]
    # Rotation needs the Essentials (or Plus) feature plan.
    assert POOL["UserPoolTier"] == "ESSENTIALS"
    assert (props["IdTokenValidity"], props["AccessTokenValidity"]) == (60, 60)
    assert props["RefreshTokenValidity"] == 30
    assert props["TokenValidityUnits"] == {
        "IdToken": "minutes",
        "AccessToken": "minutes",
        "RefreshToken": "days",
    }


def test_the_api_tells_clients_how_to_sign_in() -> None:
    variables = RESOURCES["HttpApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["FILESTORE_COGNITO_DOMAIN"] == Intrinsic(
        "Sub", "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"
    )
    assert variables["FILESTORE_COGNITO_CLI_REDIRECT_URI"] == Intrinsic("Ref", "CliRedirectUri")
    assert variables["FILESTORE_WEB_URL"] == WEB_ORIGIN
    # The first client id is the public client the web app and `filestore login` use.
    assert variables["FILESTORE_COGNITO_CLIENT_ID"].value.split(",")[0] == "${UserPoolClient}"
    # The managed login's address is the one the outputs name.
    outputs = TEMPLATE["Outputs"]
    assert outputs["CognitoDomainUrl"]["Value"] == variables["FILESTORE_COGNITO_DOMAIN"]


def test_the_cli_redirect_is_the_loopback_address_the_cli_listens_on() -> None:
    parameter = PARAMETERS["CliRedirectUri"]
    assert parameter["Default"] == "http://localhost:53682/callback"
    pattern = parameter["AllowedPattern"]
    assert re.fullmatch(pattern, parameter["Default"])
    for refused in (
        "https://localhost:53682/callback",
        "http://127.0.0.1:53682/callback",
        "http://localhost.example.com/callback",
        "http://localhost:53682/a b",
    ):
        assert not re.fullmatch(pattern, refused), refused


def test_the_cli_client_uses_srp_or_a_loopback_redirect_and_refresh_tokens() -> None:
    props = client("cli")
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["CallbackURLs"] == Intrinsic("Ref", "CliCallbackUrls")
    [url] = PARAMETERS["CliCallbackUrls"]["Default"].split(",")
    # Cognito takes plain http for localhost only.
    assert re.fullmatch(r"http://localhost:\d+/callback", url)


@pytest.mark.parametrize("parameter", ["CliCallbackUrls", "CliRedirectUri"])
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
