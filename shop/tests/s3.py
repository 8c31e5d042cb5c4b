"""A local S3-compatible server for tests and checks: moto in server mode, in a process of its own.

    with S3Server() as server:
        options = server.storage_options(server.create_bucket("media"))

gives what STORAGES["default"]["OPTIONS"] of shop.storage.MediaStorage takes, with pictures
served from the bucket's own address under the policy the README gives for a real bucket. The
pytest fixtures below start one server for the whole run (`s3_server`) and give each test a
bucket of its own as the store's media storage (`media_on_s3`).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

# Any keys do: moto checks none. The region is the one a bucket needs no location for.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"
# What anyone may read: pictures (uploads, the demo catalogue's, their renditions), not the
# import files waiting under imports/ (README, "Pictures on object storage").
PUBLIC_PREFIXES = ("products/", "demo/")


def public_read_policy(bucket, prefixes=PUBLIC_PREFIXES):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicPictures",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*" for prefix in prefixes],
                }
            ],
        }
    )


class S3Server:
    """moto_server on 127.0.0.1 and a free port, stopped and started again on the same port
    (buckets do not survive a stop), or frozen, to play an outage and a hung server."""

    def __init__(self, port=None):
        if port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.process = None
        self.start()

    def start(self, timeout=20):
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.endpoint_url, timeout=1).close()
                return
            except urllib.error.HTTPError:  # it answers: up
                return
            except OSError:  # URLError included: not listening yet
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self):
        if self.process is None:
            return
        # SIGKILL also ends a frozen process, which would hold a SIGTERM until it is resumed.
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def freeze(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1}),
        )

    def create_bucket(self, name=None):
        """A new bucket whose pictures anyone may read; returns its name."""
        name = name or f"media-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        client.put_bucket_policy(Bucket=name, Policy=public_read_policy(name))
        return name

    def public_url(self, bucket):
        """Where the bucket's objects are read without keys (path-style, as moto serves)."""
        return f"{self.endpoint_url}/{bucket}"

    def storage_options(self, bucket, **overrides):
        return {
            "bucket_name": bucket,
            "public_url": self.public_url(bucket),
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "max_attempts": 2,
            **overrides,
        }

    def environment(self, bucket):
        """The same, as the store's environment variables (.env.example)."""
        return {
            "MEDIA_S3_BUCKET": bucket,
            "MEDIA_PUBLIC_URL": self.public_url(bucket),
            "MEDIA_S3_ENDPOINT_URL": self.endpoint_url,
            "MEDIA_S3_REGION": REGION,
            "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }


class Bucket:
    """One test's bucket, as the tests look at it: through S3's API, and over plain HTTP as a
    browser would fetch it."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self._client = server.client()

    def keys(self):
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}

    def head(self, key):
        return self._client.head_object(Bucket=self.name, Key=key)

    def put(self, key, data, **params):
        self._client.put_object(Bucket=self.name, Key=key, Body=data, **params)

    def fetch(self, url):
        """(status, headers, body) of a GET without keys, as a browser sends it."""
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


def media_storage_settings(options):
    return {"BACKEND": "shop.storage.MediaStorage", "OPTIONS": options}


@pytest.fixture(scope="session")
def s3_server():
    """One moto server for the run; stopped at the end."""
    with S3Server() as server:
        yield server


@pytest.fixture
def media_on_s3(s3_server, settings):
    """The store's media storage is a new bucket of its own on the run's server (as
    MEDIA_S3_BUCKET would make it); returns the Bucket."""
    name = s3_server.create_bucket()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage_settings(s3_server.storage_options(name)),
    }
    settings.MEDIA_URL = f"{s3_server.public_url(name)}/"
    return Bucket(s3_server, name)
