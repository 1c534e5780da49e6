"""Without RabbitMQ: all four services in one process over the in-memory broker still do the job."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import ROOT, Pipeline, mail
from tests.support.waiting import wait_for


def test_all_services_in_one_process_over_the_in_memory_broker_create_the_item_and_auto_reply(
        pipeline_env: Pipeline) -> None:
    env = {**pipeline_env.env, "AMQP_URL": "amqp://guest:guest@127.0.0.1:1//"}  # no broker there
    log = (pipeline_env.var / "log" / "all.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "all"], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    pipeline_env.procs["all"] = proc
    pipeline_env.drop(mail("Projector in room 4 is dead", message_id="<projector@example.com>"))
    [item] = pipeline_env.wait_items(1)
    [sent] = wait_for(lambda: pipeline_env.smtp.received, what="the auto-reply")
    assert f"[#{item['number']}]" in sent.message["Subject"]
