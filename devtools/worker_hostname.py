"""The host name a task instance records (`[core] hostname_callable`), for several Celery
workers on one machine: each worker process names its host through DEFLECT_WORKER_HOSTNAME,
as separate hosts would by their own names. Unset, it is the machine's name, as Airflow's default.

    AIRFLOW__CORE__HOSTNAME_CALLABLE=devtools.worker_hostname.hostname
"""
from __future__ import annotations

import os
import socket

ENV = "DEFLECT_WORKER_HOSTNAME"


def hostname() -> str:
    return os.environ.get(ENV) or socket.getfqdn()
