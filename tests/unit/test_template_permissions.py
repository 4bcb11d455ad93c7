"""Least privilege, as template.yaml grants it: per function, which actions on which resources,
which secrets, and which routes are behind an authorizer.

The tables below are the decision; the template must match them exactly. A permission added to
a function, a secret a function can newly read, a route without its authorizer: each fails here
until the table says so too, in the same change, where a reviewer sees it.

What is read: each function's `Policies` (inline statements, the stack's managed policies it
refers to, SAM policy templates), plus what SAM adds for its `DeadLetterQueue`. SAM also attaches
two AWS-managed policies to every function's role, outside this template: the basic execution
role (its own log streams) and, with `Tracing: Active`, X-Ray write access, whose
`xray:PutTraceSegments` and `xray:PutTelemetryRecords` AWS only grants on `Resource: "*"`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.template import Intrinsic, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
FUNCTIONS = {n: r for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}

Grant = tuple[str, str]  # (action, resource as written)

# --- how resources are written in the tables ----------------------------------------------------

CLUSTER = "GetAtt DatabaseCluster.DBClusterArn"
MASTER_SECRET = "GetAtt DatabaseCluster.MasterUserSecret.SecretArn"
APP_SECRET = "Ref DatabaseAppSecret"
TOPIC = "Ref EventsTopic"
SNS_KEYS = "Sub arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
OBJECTS = "Sub arn:${AWS::Partition}:s3:::${UploadsBucket}/u/*"
BUCKET = "Sub arn:${AWS::Partition}:s3:::${UploadsBucket}"
CONNECTIONS = (
    "Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
    "${WebSocketApi}/${Stage}/*/@connections/*"
)
SES_IDENTITIES = "Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
SES_CONFIGURATION_SET = (
    "Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
    "configuration-set/${EmailConfigurationSet}"
)


def queue(name: str) -> str:
    return f"queue {name}"


def on(resource: str, *actions: str) -> set[Grant]:
    return {(action, resource) for action in actions}


# --- the decision: what each function may do ---------------------------------------------------

# Signing in to the database as the application user: every statement, in transactions.
APP_DATABASE = on(
    CLUSTER,
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:RollbackTransaction",
) | on(APP_SECRET, "secretsmanager:GetSecretValue")
# As the master user: one statement at a time (DDL, CREATE USER, GRANT), no transactions.
ADMIN_DATABASE = on(CLUSTER, "rds-data:ExecuteStatement") | on(
    MASTER_SECRET, "secretsmanager:GetSecretValue"
)
PUBLISH = on(TOPIC, "sns:Publish") | on(SNS_KEYS, "kms:GenerateDataKey*", "kms:Decrypt")
PUSH = on(CONNECTIONS, "execute-api:ManageConnections")
POLL = {
    "sqs:ChangeMessageVisibility",
    "sqs:ChangeMessageVisibilityBatch",
    "sqs:DeleteMessage",
    "sqs:DeleteMessageBatch",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
}


def polls(name: str) -> set[Grant]:
    return on(queue(name), *POLL)


EXPECTED: dict[str, set[Grant]] = {
    "HttpApiFunction": APP_DATABASE
    | PUBLISH
    | on(
        OBJECTS,
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    )
    # HEAD of a missing object answers 404 only to a caller that may list (else 403).
    | on(BUCKET, "s3:ListBucket"),
    # It answers pings with its route response and posts nothing.
    "WebSocketFunction": APP_DATABASE,
    "WebSocketAuthorizerFunction": set(),
    "S3EventsFunction": APP_DATABASE
    | PUBLISH
    | polls("S3EventsQueue")
    | on(
        OBJECTS,
        "s3:GetObject",
        "s3:GetObjectAttributes",
        "s3:DeleteObject",
        # a stored object's first version copied back over a later write
        "s3:GetObjectVersion",
        "s3:PutObject",
    )
    | on(BUCKET, "s3:ListBucket", "s3:ListBucketVersions"),
    "EmailFunction": APP_DATABASE
    | polls("EmailQueue")
    | on(SES_IDENTITIES, "ses:SendEmail", "ses:SendRawEmail")
    # SES checks the configuration set the mail is sent with as well.
    | on(SES_CONFIGURATION_SET, "ses:SendEmail", "ses:SendRawEmail"),
    # Marks bounced and complaining addresses: the database only.
    "EmailFeedbackFunction": APP_DATABASE | polls("EmailFeedbackQueue"),
    "RealtimeFunction": APP_DATABASE | polls("RealtimeQueue") | PUSH,
    "PreSignUpFunction": set(),
    "PostConfirmationFunction": APP_DATABASE | PUBLISH,
    "MigrationsFunction": ADMIN_DATABASE
    | on(APP_SECRET, "secretsmanager:GetSecretValue")
    | on(queue("MigrationsDeadLetterQueue"), "sqs:SendMessage"),
    "DatabaseUserRotationFunction": ADMIN_DATABASE
    | on(
        APP_SECRET,
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ),
    "RelayFunction": APP_DATABASE | PUBLISH | on(queue("RelayDeadLetterQueue"), "sqs:SendMessage"),
    "SweepFunction": APP_DATABASE
    | PUBLISH
    | on(
        OBJECTS,
        "s3:GetObject",
        "s3:GetObjectAttributes",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    )
    | on(BUCKET, "s3:ListBucket")
    | on(queue("SweepDeadLetterQueue"), "sqs:SendMessage"),
}

# Who may read which database secret: the master user's only the two functions that change the
# schema or the users; everything else that uses the database, the application user's.
SECRETS = {"master": MASTER_SECRET, "app": APP_SECRET}
EXPECTED_SECRETS: dict[str, set[str]] = {
    "MigrationsFunction": {"master", "app"},
    "DatabaseUserRotationFunction": {"master", "app"},
    "WebSocketAuthorizerFunction": set(),
    "PreSignUpFunction": set(),
}
APP_ONLY = {"app"}

# Actions that end in a wildcard, each with why it is needed. `*` and `service:*` never are.
WILDCARD_ACTIONS = {
    # GenerateDataKey and GenerateDataKeyWithoutPlaintext, both of which SNS may ask for; only
    # through SNS (kms:ViaService).
    "kms:GenerateDataKey*": "SNS encrypts each published message with a data key",
}
# Resources that name every one of a kind in the account: each needs its reason and a Condition
# that narrows it. `Resource: "*"` itself appears nowhere in the template.
ACCOUNT_WIDE = {
    SNS_KEYS: "the AWS-managed aws/sns key has no ARN known in advance; kms:ViaService pins SNS",
    SES_IDENTITIES: "in the SES sandbox every recipient is an identity too; ses:FromAddress pins "
    "the sender",
}

PUBLIC_ROUTES = {"GET /shares/{token}", "GET /openapi.json", "GET /docs", "GET /auth/config"}


# --- reading the template ------------------------------------------------------------------------


def render(node: Any) -> str:
    """A resource as the tables write it: `Ref X`, `GetAtt X.Y`, `Sub ...`, or the string."""
    if isinstance(node, Intrinsic):
        if node.tag == "Sub" and isinstance(node.value, str):
            return f"Sub {node.value}"
        if node.tag in ("Ref", "GetAtt") and isinstance(node.value, str):
            return f"{node.tag} {node.value}"
        raise AssertionError(f"a resource written in a way these tables cannot read: {node}")
    if isinstance(node, str):
        return node
    raise AssertionError(f"a resource written in a way these tables cannot read: {node!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def managed_policy(node: Any) -> dict[str, Any] | None:
    if isinstance(node, Intrinsic) and node.tag == "Ref" and node.value in RESOURCES:
        resource = RESOURCES[node.value]
        assert resource["Type"] == "AWS::IAM::ManagedPolicy", node.value
        document: dict[str, Any] = resource["Properties"]["PolicyDocument"]
        return document
    return None


def statements(function: str) -> Iterator[dict[str, Any]]:
    """Every statement the function's role gets from the template (and SAM's DLQ policy)."""
    props = FUNCTIONS[function]["Properties"]
    for policy in props.get("Policies", []):
        document = managed_policy(policy)
        if document is not None:
            yield from as_list(document["Statement"])
        elif isinstance(policy, dict) and "Statement" in policy:
            yield from as_list(policy["Statement"])
        elif isinstance(policy, dict) and set(policy) == {"SQSPollerPolicy"}:
            name = policy["SQSPollerPolicy"]["QueueName"]
            assert isinstance(name, Intrinsic) and name.tag == "GetAtt", name
            yield {
                "Effect": "Allow",
                "Action": sorted(POLL),
                "Resource": queue(name.value.removesuffix(".QueueName")),
            }
        else:
            raise AssertionError(f"{function}: a policy these tests cannot read: {policy!r}")
    dead_letters = props.get("DeadLetterQueue")
    if dead_letters:
        target = dead_letters["TargetArn"]
        assert isinstance(target, Intrinsic) and target.tag == "GetAtt"
        yield {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": queue(target.value.removesuffix(".Arn")),
        }


def grants(function: str) -> set[Grant]:
    found: set[Grant] = set()
    for statement in statements(function):
        assert statement["Effect"] == "Allow", f"{function}: a Deny in a function's role"
        assert "NotAction" not in statement and "NotResource" not in statement, function
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                found.add((action, render(resource)))
    return found


def secrets_readable(function: str) -> set[str]:
    return {
        name
        for name, secret in SECRETS.items()
        if ("secretsmanager:GetSecretValue", secret) in grants(function)
    }


POLICY_DOCUMENTS = {"AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"}


def every_allow_statement() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every Allow of every identity and resource policy written here."""
    for name, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        documents: list[Any] = []
        if resource["Type"] in POLICY_DOCUMENTS:
            documents.append(props["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif resource["Type"] == "AWS::Serverless::Function":
            documents += [p for p in props.get("Policies", []) if isinstance(p, dict)]
        for document in documents:
            for statement in as_list(document.get("Statement", [])):
                if statement.get("Effect") == "Allow":
                    yield name, statement


# --- the tests -----------------------------------------------------------------------------------


def test_the_table_names_every_function() -> None:
    assert set(EXPECTED) == set(FUNCTIONS)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_may_do_exactly_what_the_table_says(function: str) -> None:
    found = grants(function)
    assert found - EXPECTED[function] == set(), "granted, not in the table"
    assert EXPECTED[function] - found == set(), "in the table, not granted"


def test_only_the_migrations_and_the_rotation_may_read_the_master_secret() -> None:
    holders = {f for f in FUNCTIONS if "master" in secrets_readable(f)}
    assert holders == {"MigrationsFunction", "DatabaseUserRotationFunction"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_reads_the_secrets_the_table_says(function: str) -> None:
    assert secrets_readable(function) == EXPECTED_SECRETS.get(function, APP_ONLY)


def _environment(function: str) -> dict[str, Any]:
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    own = FUNCTIONS[function]["Properties"].get("Environment", {}).get("Variables", {})
    variables.update(own)
    return variables


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_a_function_signs_in_with_a_secret_it_may_read(function: str) -> None:
    """The Data API reads the secret with the caller's permissions: a function told to use a
    secret its role cannot read would fail on its first statement."""
    readable = secrets_readable(function)
    if not readable:
        return  # no database at all
    signs_in_with = render(_environment(function)["FILESTORE_DATAAPI_SECRET_ARN"])
    expected = MASTER_SECRET if "master" in readable else APP_SECRET
    assert signs_in_with == expected
    if "master" in readable:
        assert render(_environment(function)["FILESTORE_DATAAPI_APP_SECRET_ARN"]) == APP_SECRET


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_a_function_of_the_application_user_waits_for_the_deploy_to_create_it(
    function: str,
) -> None:
    """On a stack's first deploy (or the update that brings the user in) the migrations custom
    resource creates the user: a function started earlier would be refused by the database."""
    if secrets_readable(function) != APP_ONLY:
        return
    depends_on = as_list(FUNCTIONS[function].get("DependsOn", []))
    assert "DatabaseMigrations" in depends_on


def test_the_application_user_is_the_one_the_secret_names() -> None:
    template = RESOURCES["DatabaseAppSecret"]["Properties"]["GenerateSecretString"]
    username = re.search(r'"username": "([a-z0-9_]+)"', template["SecretStringTemplate"].value)
    assert username is not None
    for function in ("MigrationsFunction", "DatabaseUserRotationFunction"):
        assert _environment(function)["FILESTORE_DATAAPI_APP_USERNAME"] == username[1]
    # Generated passwords never need escaping in SQL (the rotation's exclude the same).
    assert set(template["ExcludeCharacters"]) >= set("'\"\\`")


def test_no_wildcard_action() -> None:
    for where, statement in every_allow_statement():
        for action in as_list(statement["Action"]):
            assert action != "*", where
            _service, _, name = action.partition(":")
            assert name and name != "*", f"{where}: {action} allows a whole service"
            if "*" in name:
                assert action in WILDCARD_ACTIONS, f"{where}: {action} needs a reason here"


def test_no_resource_star_and_account_wide_resources_are_narrowed() -> None:
    for where, statement in every_allow_statement():
        for resource in as_list(statement.get("Resource", [])):
            assert resource != "*", f"{where}: Resource '*'"
            rendered = render(resource)
            if rendered in ACCOUNT_WIDE:
                assert statement.get("Condition"), f"{where}: {rendered} without a Condition"


def test_every_account_wide_resource_in_the_table_is_still_used() -> None:
    used = {render(r) for _, s in every_allow_statement() for r in as_list(s.get("Resource", []))}
    assert set(ACCOUNT_WIDE) <= used


# --- routes ------------------------------------------------------------------------------------


def routes(api: str) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
        and r["Properties"]["ApiId"] == Intrinsic("Ref", api)
    }


def test_every_http_route_but_the_public_ones_needs_a_cognito_token() -> None:
    http = routes("HttpApi")
    assert set(http) >= PUBLIC_ROUTES
    for key, route in http.items():
        if key in PUBLIC_ROUTES:
            assert route["AuthorizationType"] == "NONE", key
            assert "AuthorizerId" not in route, key
        else:
            assert route["AuthorizationType"] == "JWT", key
            assert route["AuthorizerId"] == Intrinsic("Ref", "HttpApiAuthorizer"), key


def test_the_jwt_authorizer_takes_id_tokens_of_the_pool_for_both_clients() -> None:
    authorizer = RESOURCES["HttpApiAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["ApiId"] == Intrinsic("Ref", "HttpApi")
    jwt = authorizer["JwtConfiguration"]
    assert jwt["Issuer"] == Intrinsic("Sub", "https://${UserPool.ProviderURL}")
    assert jwt["Audience"] == [Intrinsic("Ref", "UserPoolClient"), Intrinsic("Ref", "CliClient")]


def test_the_websocket_connect_route_is_behind_the_token_authorizer() -> None:
    websocket = routes("WebSocketApi")
    connect = websocket["$connect"]
    assert connect["AuthorizationType"] == "CUSTOM"
    assert connect["AuthorizerId"] == Intrinsic("Ref", "WebSocketAuthorizer")
    authorizer = RESOURCES["WebSocketAuthorizer"]["Properties"]
    assert authorizer["ApiId"] == Intrinsic("Ref", "WebSocketApi")
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert "${WebSocketAuthorizerFunction.Arn}" in authorizer["AuthorizerUri"].value
    # Nothing reaches the other routes without a connection, which $connect authorized.
    assert set(websocket) == {"$connect", "$disconnect", "$default"}


def test_functions_that_check_tokens_accept_both_clients() -> None:
    for function in ("HttpApiFunction", "WebSocketFunction", "WebSocketAuthorizerFunction"):
        client_ids = _environment(function)["FILESTORE_COGNITO_CLIENT_ID"]
        assert client_ids == Intrinsic("Sub", "${UserPoolClient},${CliClient}"), function
