"""What one process (one Lambda execution environment) keeps between invocations, and forgetting it.

Settings, clients, the data-key cache and the copy of the line registry are built once per process,
so a warm function reuses them. A process that serves more than one deployment (the local stack
started twice in a test run) must forget them in between, or it would reach the first one's resources.
"""

from __future__ import annotations

import sys
from typing import Final

PROCESS_CACHES: Final = (
    ("helpline.settings", "get_settings"),
    ("helpline.dal.dynamodb", "dynamodb_client"),
    ("helpline.dal.buffer", "sqs_client"),
    ("helpline.dal.mail", "s3_client"),
    ("helpline.dal.kms", "kms_session"),
    ("helpline.dal.kms", "identifier_vault"),
    ("helpline.dal.kms", "transcript_sealer"),
    ("helpline.wiring", "ingest_ports"),
    ("helpline.wiring", "transcript_ports"),
    ("helpline.wiring", "ingest_policy"),
    ("helpline.dal.transcript_reader", "transcript_reader"),
    ("helpline.dal.workflow", "stepfunctions_client"),
    ("helpline.dal.notify", "sns_client"),
    ("helpline.dal.disclosure_crypto", "disclosure_kms_client"),
    ("helpline.dal.disclosure_crypto", "identifier_opener"),
)


def forget_process_state() -> None:
    """Drop every per-process cache of this package, and Powertools' cached secrets.

    Only modules already loaded are touched: importing one here would run its module-level setup
    (a Powertools Logger reads its service name then) before the function's environment is set.
    """
    for module_name, cache_name in PROCESS_CACHES:
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, cache_name).cache_clear()
    constants = sys.modules.get("aws_lambda_powertools.utilities.parameters.constants")
    if constants is not None:
        constants.DEFAULT_PROVIDERS.clear()
