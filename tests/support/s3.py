"""An S3-compatible server for tests: moto in server mode, a real HTTP S3 API on a loopback port."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.servers import free_port
from tests.support.waiting import wait_for

ACCESS_KEY, SECRET_KEY = "postroom-test", "postroom-test-secret"


@dataclass(frozen=True)
class S3Server:
    url: str

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The settings that put a service's blob store in ``bucket``."""
        return {"POSTROOM_STORE_URL": f"s3://{bucket}/blobs", "POSTROOM_S3_ENDPOINT_URL": self.url,
                "POSTROOM_S3_ACCESS_KEY_ID": ACCESS_KEY, "POSTROOM_S3_SECRET_ACCESS_KEY": SECRET_KEY}


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def moto_server() -> Iterator[S3Server]:
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if binary is None:
        raise RuntimeError("moto_server is not installed: make install (the test extra has moto[server])")
    port = free_port()
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: proc.poll() is None and _answers(url), timeout=30, what="moto_server")
        yield S3Server(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
