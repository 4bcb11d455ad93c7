"""The web app's deployment as template.yaml sets it up: a private bucket that only this
distribution reads (origin access control), HTTPS only, the cache and security headers, the
share page's rewrite, CORS that names exactly the app's origin, and the custom resource that
publishes the app with what the publisher reads."""

from __future__ import annotations

import re
from typing import Any

from filestore.entrypoints import web_publisher
from tests.support.template import Intrinsic, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
WEB_ORIGIN = Intrinsic("Sub", "https://${WebDistribution.DomainName}")
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def properties(name: str) -> dict[str, Any]:
    props: dict[str, Any] = RESOURCES[name]["Properties"]
    return props


def distribution() -> dict[str, Any]:
    config: dict[str, Any] = properties("WebDistribution")["DistributionConfig"]
    return config


def behaviors() -> dict[str, dict[str, Any]]:
    config = distribution()
    found = {"*": config["DefaultCacheBehavior"]}
    found.update({b["PathPattern"]: b for b in config["CacheBehaviors"]})
    return found


def test_the_bucket_is_private_encrypted_and_tls_only() -> None:
    bucket = properties("WebBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "WebsiteConfiguration" not in bucket
    statements = properties("WebBucketPolicy")["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Action"] == "s3:*"


def test_only_this_distribution_may_read_the_bucket_through_origin_access_control() -> None:
    statements = properties("WebBucketPolicy")["PolicyDocument"]["Statement"]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == Intrinsic("Sub", "${WebBucket.Arn}/*")
    assert allow["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": Intrinsic(
                "Sub",
                "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                "${WebDistribution}",
            )
        }
    }
    oac = properties("WebOriginAccessControl")["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert oac["SigningBehavior"] == "always"
    assert oac["SigningProtocol"] == "sigv4"
    [origin] = distribution()["Origins"]
    assert origin["DomainName"] == Intrinsic("GetAtt", "WebBucket.RegionalDomainName")
    assert origin["OriginAccessControlId"] == Intrinsic("GetAtt", "WebOriginAccessControl.Id")
    # No legacy origin access identity.
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert not [n for n, r in RESOURCES.items() if "OriginAccessIdentity" in r["Type"]]


def test_https_only_compressed_with_index_html_at_the_root() -> None:
    config = distribution()
    assert config["DefaultRootObject"] == "index.html"
    assert config["Enabled"] is True
    for pattern, behavior in behaviors().items():
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https", pattern
        assert behavior["Compress"] is True, pattern
        assert behavior["AllowedMethods"] == ["GET", "HEAD"], pattern
        assert behavior["TargetOriginId"] == "app", pattern
        assert behavior["ResponseHeadersPolicyId"] == Intrinsic("Ref", "WebSecurityHeadersPolicy")


def test_assets_are_cached_long_and_the_page_and_config_not_at_all() -> None:
    found = behaviors()
    assert set(found) == {"*", "/assets/*", "/s/*"}
    assert found["/assets/*"]["CachePolicyId"] == CACHING_OPTIMIZED
    # index.html, config.json and / go through the default behavior; the share page is the page.
    assert found["*"]["CachePolicyId"] == CACHING_DISABLED
    assert found["/s/*"]["CachePolicyId"] == CACHING_DISABLED


def test_the_share_page_is_rewritten_to_index_html() -> None:
    [association] = behaviors()["/s/*"]["FunctionAssociations"]
    assert association == {
        "EventType": "viewer-request",
        "FunctionARN": Intrinsic("GetAtt", "WebSharePageFunction.FunctionARN"),
    }
    function = properties("WebSharePageFunction")
    assert function["AutoPublish"] is True
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    code = function["FunctionCode"]
    assert "request.uri.startsWith('/s/')" in code
    assert "request.uri = '/index.html'" in code
    assert all("FunctionAssociations" not in b for p, b in behaviors().items() if p != "/s/*")


def test_security_headers_without_the_content_security_policy() -> None:
    config = properties("WebSecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    # The CSP names the API, whose CORS names the distribution: it is in index.html instead.
    assert "ContentSecurityPolicy" not in headers
    assert "CustomHeadersConfig" not in config


def test_cors_allows_exactly_the_web_apps_origin() -> None:
    assert properties("HttpApi")["CorsConfiguration"]["AllowOrigins"] == [WEB_ORIGIN]
    [rule] = properties("UploadsBucket")["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [WEB_ORIGIN]
    assert {"POST", "PUT"} <= set(rule["AllowedMethods"])
    assert rule["ExposedHeaders"] == ["ETag"]
    variables = properties("HttpApiFunction")["Environment"]["Variables"]
    assert variables["FILESTORE_CORS_ORIGINS"] == WEB_ORIGIN
    assert variables["FILESTORE_WEB_URL"] == WEB_ORIGIN
    assert "AllowedOrigins" not in TEMPLATE["Parameters"]


def test_the_custom_resource_gives_the_publisher_what_it_reads() -> None:
    publication = properties("WebPublication")
    assert publication["ServiceToken"] == Intrinsic("GetAtt", "WebPublisherFunction.Arn")
    assert set(web_publisher.REQUIRED) <= set(publication)
    assert publication["Bucket"] == Intrinsic("Ref", "WebBucket")
    assert publication["DistributionId"] == Intrinsic("Ref", "WebDistribution")
    assert publication["WebUrl"] == WEB_ORIGIN
    assert publication["ClientId"] == Intrinsic("Ref", "UserPoolClient")
    assert publication["CliRedirectUri"] == Intrinsic("Ref", "CliRedirectUri")
    # The same addresses the functions and the outputs are given.
    outputs = TEMPLATE["Outputs"]
    assert publication["ApiUrl"] == outputs["HttpApiUrl"]["Value"]
    assert publication["WebSocketUrl"].value == outputs["WebSocketUrl"]["Value"].value
    assert publication["CognitoDomain"] == outputs["CognitoDomainUrl"]["Value"]
    assert publication["UploadsOrigins"] == [
        Intrinsic("Sub", "https://${UploadsBucket.RegionalDomainName}"),
        Intrinsic("Sub", "https://${UploadsBucket.DomainName}"),
    ]
    # A new version of the function (new code, new app files) publishes again.
    assert publication["AppVersion"] == Intrinsic("Ref", "WebPublisherFunction.Version")
    function = properties("WebPublisherFunction")
    assert function["AutoPublishAlias"] == "live"
    assert function["Handler"] == "filestore.entrypoints.web_publisher.handler"


def test_the_outputs_name_the_web_app() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs["WebUrl"]["Value"] == Intrinsic("Sub", "https://${WebDistribution.DomainName}/")
    assert re.search(r"sign in", outputs["WebUrl"]["Description"])
