"""The local stack's rehearsal clock: move time forward and see retention happen (P7).

`python -m local_stack clock --advance-days N` asks the running local stack (`POST /_local/clock` on its
API port; the deployed stacks have no such route) to move `helpline.clock` forward for every handler,
and to do what the cloud would have done in that time before it answers:

1. run every scheduled function once (key stewards: create this month's keys, retire those whose
   retention has run out; the retention sweeper);
2. let KMS destroy the keys whose pending window has ended (`kms_state.purge_keys_due`);
3. let DynamoDB's TTL delete the items whose `expires_at` has passed (moto never does).

Nothing here is reachable in a deployment: it is the local stack's, like the stand-in itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from helpline import clock
from local_stack.event_sources import ScheduleEventSource
from local_stack.kms_state import purge_keys_due
from local_stack.lambdas import FunctionError

log = logging.getLogger("local_stack.clock")
ROUTE = "/_local/clock"


class RehearsalClock:
    def __init__(
        self,
        schedules: Callable[[], Iterable[ScheduleEventSource]],
        dynamodb: Callable[[], Any],
        ttl_tables: Callable[[], dict[str, str]],
    ) -> None:
        self._schedules = schedules
        self._dynamodb = dynamodb
        self._ttl_tables = ttl_tables

    def advance(self, days: float) -> dict[str, Any]:
        """Move the clock, then run what came due; returns what happened (names and counts only)."""
        now = clock.advance(timedelta(days=days))
        ran, failed = self.run_schedules()
        purged = purge_keys_due(now)
        expired = self.expire_items(int(now.timestamp()))
        log.info("clock moved %.2f days to %s", days, now.isoformat(timespec="seconds"))
        return {
            "now": now.isoformat(timespec="seconds"),
            "schedules_run": ran,
            "schedules_failed": failed,
            "keys_destroyed": len(purged),
            "items_expired": expired,
        }

    def run_schedules(self) -> tuple[list[str], list[str]]:
        ran: list[str] = []
        failed: list[str] = []
        for schedule in self._schedules():
            try:
                schedule.run_now()
            except FunctionError:
                failed.append(schedule.function_name)
                continue
            ran.append(schedule.function_name)
        return ran, failed

    def expire_items(self, now_epoch: int) -> dict[str, int]:
        """DynamoDB's TTL, done at once: delete every item whose TTL attribute is at or before now."""
        dynamodb = self._dynamodb()
        expired: dict[str, int] = {}
        for table, attribute in self._ttl_tables().items():
            keys = [
                k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            ]
            count = 0
            for page in dynamodb.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="#ttl <= :now",
                ExpressionAttributeNames={"#ttl": attribute},
                ExpressionAttributeValues={":now": {"N": str(now_epoch)}},
            ):
                for item in page.get("Items", []):
                    dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})
                    count += 1
            if count:
                expired[table] = count
        return expired

    def wsgi(self, request: Request) -> Response:
        """`POST /_local/clock` with `{"advance_days": N}`."""
        try:
            days = float(json.loads(request.get_data() or b"{}")["advance_days"])
        except (ValueError, KeyError, TypeError):
            return _json(400, {"message": 'body must be {"advance_days": <number of days, at least 0>}'})
        if days < 0:
            return _json(400, {"message": "the clock only moves forward"})
        return _json(200, self.advance(days))


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
