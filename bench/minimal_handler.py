"""The yardstick: a minimal one-file Powertools handler doing similar work to ours.

Logger, Tracer, Metrics, `APIGatewayHttpResolver(enable_validation=True)` with pydantic models,
an S3 client created at import (as Powertools examples do) and one presigned POST per upload.
Its routes answer canned data: it is the "bare resolver" of the warm benchmark.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

logger = Logger(service="minimal")
tracer = Tracer(service="minimal")
metrics = Metrics(service="minimal", namespace="minimal")
app = APIGatewayHttpResolver(enable_validation=True)
s3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION", "us-east-1"))
BUCKET = "minimal-bucket"


class UploadIn(BaseModel):
    name: str
    size: int
    content_type: str


class UserOut(BaseModel):
    id: str
    email: str
    notify_email: bool
    quota_bytes: int
    used_bytes: int
    created_at: datetime


class UploadUrl(BaseModel):
    url: str
    fields: dict[str, str]


@app.get("/me")
def me() -> UserOut:
    claims = app.current_event.request_context.authorizer.jwt_claim
    return UserOut(
        id="01",
        email=claims.get("email", ""),
        notify_email=False,
        quota_bytes=1,
        used_bytes=0,
        created_at=datetime.now(UTC),
    )


@app.post("/uploads", status_code=201)
def upload(body: UploadIn) -> UploadUrl:
    post = s3.generate_presigned_post(
        BUCKET,
        "u/1/2",
        Fields={"Content-Type": body.content_type},
        Conditions=[["content-length-range", body.size, body.size]],
        ExpiresIn=900,
    )
    return UploadUrl(url=post["url"], fields=post["fields"])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
