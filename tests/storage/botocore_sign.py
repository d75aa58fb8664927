#!/usr/bin/env python3
"""Signs S3 requests with botocore, an implementation that shares no code with ours, at a
fixed clock, so sigv4_botocore_test.cpp can compare signatures byte for byte.

Reads one JSON case per line on stdin:
  {"method", "endpoint", "bucket", "key", "params": [[name, value]...], "headers": {...},
   "body", "region", "time": "20261121T093000Z", "token", "presign": seconds or null}
and prints one JSON line per case: {"url", "authorization"} (header signing) or {"url"}
(presigned). botocore builds the URL itself: it encodes the key (percent_encode, safe
'/~') and the query (percent_encode_sequence), as its S3 serializer does.
"""
import datetime
import json
import sys
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def fixed_clock(fixed):
    """Freezes botocore's clock: recent versions call auth.get_current_datetime(), older
    ones (Debian 12's 1.29) datetime.datetime.utcnow()."""

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    botocore.auth.get_current_datetime = lambda: fixed
    botocore.auth.datetime = types.SimpleNamespace(datetime=Frozen, timezone=datetime.timezone,
                                                   timedelta=datetime.timedelta)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        fixed_clock(datetime.datetime.strptime(case["time"], "%Y%m%dT%H%M%SZ"))
        path = "/" + percent_encode(case["bucket"], safe="") + "/" + percent_encode(case["key"], safe="/~")
        url = case["endpoint"] + path
        if case.get("params"):
            url += "?" + percent_encode_sequence(case["params"])
        creds = Credentials(AK, SK, case.get("token"))
        body = case.get("body", "").encode()
        request = AWSRequest(method=case["method"], url=url, data=body, headers=dict(case.get("headers", {})))
        if case.get("presign"):
            botocore.auth.S3SigV4QueryAuth(creds, "s3", case["region"], expires=case["presign"]).add_auth(request)
            print(json.dumps({"url": request.url}))
        else:
            # Payload signing on, as the plugin always does (botocore skips it only over
            # https with a checksum header).
            request.context["payload_signing_enabled"] = True
            botocore.auth.S3SigV4Auth(creds, "s3", case["region"]).add_auth(request)
            print(json.dumps({"url": request.url, "authorization": request.headers["Authorization"],
                              "content_sha256": request.headers["X-Amz-Content-SHA256"]}))


if __name__ == "__main__":
    main()
