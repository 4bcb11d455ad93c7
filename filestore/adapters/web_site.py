"""The web app's host on AWS: its S3 bucket and the CloudFront distribution in front of it.

The ports are `filestore.web_release.SiteBucket` and `Invalidator`; the deploy's custom resource
(`filestore.entrypoints.web_publisher`) drives them through `filestore.web_release.publish`.
Calls are synchronous: a publish runs once per deploy, in a function of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from filestore.web_release import SiteObject, StoredObject

# DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000


class S3SiteBucket:
    """The app's objects in one S3 bucket."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def put(self, item: SiteObject) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=item.key,
            Body=item.body,
            ContentType=item.content_type,
            CacheControl=item.cache_control,
        )

    def list(self, prefix: str = "") -> list[StoredObject]:
        found = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            found += [StoredObject(o["Key"], o["LastModified"]) for o in page.get("Contents", [])]
        return found

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = self._s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"S3 did not delete {len(errors)} object(s) of s3://{self.bucket}, e.g. "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )


class CloudFrontInvalidator:
    """Invalidations of one CloudFront distribution."""

    def __init__(self, cloudfront: Any, distribution_id: str) -> None:
        self._cloudfront = cloudfront
        self.distribution_id = distribution_id

    def invalidate(self, paths: Sequence[str], reference: str) -> str:
        answer = self._cloudfront.create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                # The same reference for a retried request: CloudFront then answers the
                # invalidation it already made instead of making another.
                "CallerReference": reference,
            },
        )
        return str(answer["Invalidation"]["Id"])
