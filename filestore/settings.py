"""The one configuration model: every setting comes from a `FILESTORE_*` environment variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from filestore.domain.rules import GiB, MiB, UploadPolicy


class Settings(BaseSettings):
    """Which adapters to use and how to reach them. With nothing set: all in memory (refused on
    Lambda, where it would keep nothing, unless `allow_memory_on_lambda`)."""

    model_config = SettingsConfigDict(env_prefix="FILESTORE_", extra="ignore", frozen=True)

    # persistence
    database: Literal["memory", "sql", "dataapi"] = "memory"
    database_url: str | None = None  # sqlite+aiosqlite:///… or mysql+aiomysql://…
    dataapi_resource_arn: str | None = None
    # The secret the Data API signs in with: the application user's (DML only) in every function
    # but the migrations and the rotation, which run as the cluster's master user.
    dataapi_secret_arn: str | None = None
    dataapi_database: str | None = None
    # The application user's secret, which the migrations create the user from and the rotation
    # function rotates (both run with the master secret above).
    dataapi_app_secret_arn: str | None = None
    # The application user's name, which rotation alternates with `<name>_clone`; a secret that
    # names any other user is refused (it could otherwise reset the master user's password).
    dataapi_app_username: str = "filestore_app"
    # Where the Data API answers, when not at AWS's endpoint (an emulator); default: the
    # aws_endpoint_url of every other service.
    dataapi_endpoint_url: str | None = None
    # How long a Data API call keeps retrying while Aurora resumes from auto-pause, then 503.
    dataapi_retry_seconds: float = Field(default=20.0, ge=0)

    # blobs
    blob_store: Literal["memory", "s3", "filesystem"] = "memory"
    bucket: str | None = None
    data_dir: Path = Path(".filestore")

    # messages out
    events: Literal["memory", "sns"] = "memory"
    topic_arn: str | None = None
    email: Literal["memory", "ses"] = "memory"
    email_sender: str | None = None
    # The SES configuration set mail is sent with: it publishes bounces and complaints to the
    # consumer that stops mail to those addresses. None: sent without one (an emulator).
    ses_configuration_set: str | None = None
    realtime: Literal["memory", "apigateway"] = "memory"
    websocket_endpoint: str | None = None
    # Run notifications in the same process after each command (one-process systems), or leave
    # them to the queue consumers (Lambda). Defaults to in-process when events stay in memory.
    notify_in_process: bool | None = None
    # On Lambda, an in-memory database, blob store or event bus is refused at start (a function
    # that lost its environment would answer 200s and keep nothing), unless this says it is meant.
    allow_memory_on_lambda: bool = False

    # AWS
    aws_endpoint_url: str | None = None
    aws_region: str | None = None

    # HTTP
    public_url: str = "http://127.0.0.1:8000"
    cognito_issuer: str | None = None
    # The app clients whose ID tokens are accepted (their ids are the tokens' audience):
    # one id, or several separated by commas (the web app's and the CLI's).
    cognito_client_id: str | None = None
    # Browser origins allowed to call the HTTP API (comma-separated; "*" for any).
    cors_origins: str = "*"
    # How clients sign in, as `GET /auth/config` tells them: Cognito's managed login (its base
    # URL, https://<prefix>.auth.<region>.amazoncognito.com; unset: no browser sign-in), whose
    # first app client (`cognito_client_id`) the web app and the CLI share, the CLI with this
    # loopback redirect; or the local server's password-free form ("local").
    sign_in: Literal["cognito", "local"] = "cognito"
    cognito_domain: str | None = None
    cognito_cli_redirect_uri: str = "http://localhost:53682/callback"
    # The local server's sign-in form, when it offers one (`sign_in` = "local").
    local_sign_in_url: str | None = None
    # The web app's origin: a share's link is its page `<web_url>/s/<token>`; unset, the API's
    # `GET /shares/<token>`.
    web_url: str | None = None

    # limits
    multipart_threshold: int = Field(default=100 * MiB, gt=0)
    single_request_limit: int = Field(default=5 * GiB, gt=0)
    max_upload_size: int = Field(default=5 * 1024 * GiB, gt=0)
    default_quota_bytes: int = Field(default=10 * GiB, ge=0)
    # Days a file or folder stays in the trash before the sweep deletes it for good.
    trash_days: int = Field(default=30, ge=0, le=3650)
    allowed_content_types: str = ""  # comma-separated: "image/*,application/pdf"

    # sign-up (the Cognito pre-sign-up trigger): the e-mail domains people may sign up with,
    # comma-separated ("example.com,example.org"); matched whole, ignoring case.
    signup_email_domains: str = ""

    @field_validator("public_url", "web_url", "cognito_domain")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def cognito_client_ids(self) -> tuple[str, ...]:
        """The app client ids of `cognito_client_id`, in order, without blanks."""
        return _split(self.cognito_client_id or "")

    @property
    def in_process_notifications(self) -> bool:
        if self.notify_in_process is not None:
            return self.notify_in_process
        return self.events == "memory"

    def upload_policy(self) -> UploadPolicy:
        allowed = frozenset(
            t.strip().lower() for t in self.allowed_content_types.split(",") if t.strip()
        )
        return UploadPolicy(
            multipart_threshold=self.multipart_threshold,
            single_request_limit=self.single_request_limit,
            max_upload_size=self.max_upload_size,
            default_quota_bytes=self.default_quota_bytes,
            allowed_content_types=allowed,
            trash_retention=timedelta(days=self.trash_days),
        )


def _split(value: str) -> tuple[str, ...]:
    """The non-blank items of a comma-separated setting, stripped."""
    return tuple(item.strip() for item in value.split(",") if item.strip())
