"""The five processes with the blob store on S3-compatible object storage (moto's server): the
raw mail and its attachment are kept in the bucket, the API serves the attachment from it, and an
agent's reply carries an attachment the notifier reads from it."""

from __future__ import annotations

import base64
import uuid
from email.message import EmailMessage

from tests.e2e.conftest import Pipeline
from tests.e2e.test_team import _signed_in
from tests.support.s3 import S3Server
from tests.support.waiting import wait_for


def test_the_pipeline_keeps_mail_and_attachments_in_the_bucket(pipeline_env: Pipeline, s3_server: S3Server) -> None:
    bucket = s3_server.bucket(f"postroom-{uuid.uuid4().hex[:12]}")
    pipeline_env.env.update(s3_server.env(bucket))
    pipeline_env.start()
    pipeline_env.start("api")
    api = _signed_in(pipeline_env)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ada@example.com", "support@example.test", "Logs attached"
    msg["Message-ID"] = "<logs-1@example.com>"
    msg.set_content("The printer log is attached.")
    msg.add_attachment(b"E42 paper jam\n" * 100, maintype="text", subtype="plain", filename="printer.log")
    pipeline_env.drop(msg.as_bytes())
    [item] = pipeline_env.wait_items(1)
    stored = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert len(stored) >= 2 and all(key.startswith("blobs/") for key in stored)  # the raw mail and the log
    shown = api.get(f"/items/incident/{item['number']}").json()
    [attachment] = shown["attachments"]
    download = api.get(f"/items/incident/{item['number']}/attachments/{attachment['id']}")
    assert download.content == b"E42 paper jam\n" * 100
    answer = api.post(f"/items/incident/{item['number']}/replies", json={
        "text": "The steps are attached.", "attachments": [
            {"filename": "steps.txt", "content_type": "text/plain",
             "content_base64": base64.b64encode(b"1. open tray 2\n").decode()}]})
    assert answer.status_code == 202, answer.text
    sent = wait_for(lambda: [r for r in pipeline_env.smtp.received if r.message["Auto-Submitted"] is None],
                    timeout=20, what="the agent's reply")[0].message
    [part] = list(sent.iter_attachments())
    assert part.get_filename() == "steps.txt" and part.get_content() == "1. open tray 2\n"
