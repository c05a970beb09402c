"""One template provisioned on the stand-in: its resources, its functions and their event sources.

The local stack deploys two of these, as the cloud has two stacks in two accounts: the organisation's
`template.yaml` and the custodian's `infrastructure/custodian/template.yaml` (moto cannot use a key of one
account from another by ARN, so locally both live in one account; the cross-account policies are tested
against the templates). Both templates' functions run in the one `LambdaRuntime`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.event_sources import (
    AsyncQueueEventSource,
    DynamoDbStreamEventSource,
    Poller,
    PollerSettings,
    ScheduleEventSource,
    SqsEventSource,
    rate_seconds,
    unwrap_eventbridge,
    unwrap_s3,
)
from local_stack.gateway import Route
from local_stack.lambdas import FunctionSpec, LambdaRuntime
from local_stack.provision import Provisioned, Provisioner
from local_stack.template import Resolver, load_template, resources_of_type

log = logging.getLogger("local_stack")
ACCOUNT_ID = "123456789012"


@dataclass
class Deployment:
    """A template, deployed under `stack_name` with `parameters`, once `provision` has run."""

    template_path: Path
    stack_name: str
    region: str
    parameters: dict[str, str] = field(default_factory=dict)
    template: dict[str, Any] = field(init=False)
    resolver: Resolver = field(init=False)
    provisioned: Provisioned = field(default_factory=Provisioned)
    schedules: list[ScheduleEventSource] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.template = load_template(self.template_path)
        self.resolver = Resolver(
            template=self.template,
            pseudo={
                "AWS::Region": self.region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::StackName": self.stack_name,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": "",
            },
            parameters=dict(self.parameters),
        )

    def local_parameters(self, api_url: str) -> None:
        """Apply the template's `Metadata.LocalStack.Parameters` (`{ApiUrl}`: the local API's URL)."""
        local = self.template.get("Metadata", {}).get("LocalStack", {}).get("Parameters", {})
        for name, value in local.items():
            self.resolver.parameters[name] = str(value).replace("{ApiUrl}", api_url)

    def provision(self, clients: Any, environ: dict[str, str]) -> Provisioned:
        self.provisioned = Provisioner(
            self.template, self.resolver, clients, self.stack_name, environ, self.template_path.parent
        ).run()
        return self.provisioned

    # ------------------------------------------------------------------ functions
    def function_properties(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A function's properties with the template's `Globals.Function` applied, as SAM does."""
        merged = dict(self.template.get("Globals", {}).get("Function", {}))
        for key, value in resource.get("Properties", {}).items():
            if key == "Environment":
                variables = dict(merged.get("Environment", {}).get("Variables", {}))
                variables.update(value.get("Variables", {}))
                merged["Environment"] = {"Variables": variables}
            else:
                merged[key] = value
        resolved: dict[str, Any] = self.resolver.resolve(merged)
        return resolved

    def register_functions(self, runtime: LambdaRuntime, seen: dict[str, str]) -> None:
        """Register each function, and collect the environment into `seen` (shared by both stacks).

        Handlers share one process locally, so a variable must mean the same for every function that
        has it, in either stack; a clash is a template error worth failing on.
        """
        for logical_id, resource in resources_of_type(self.template, "AWS::Serverless::Function").items():
            props = self.function_properties(resource)
            for name, value in props.get("Environment", {}).get("Variables", {}).items():
                if seen.setdefault(name, str(value)) != str(value):
                    raise ValueError(f"environment variable {name} differs between functions")
            name = self.provisioned.physical[logical_id]
            runtime.register(
                FunctionSpec(
                    logical_id=logical_id,
                    name=name,
                    arn=f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}",
                    code_dir=(self.template_path.parent / props["CodeUri"]).resolve(),
                    handler=props["Handler"],
                    timeout_s=int(props.get("Timeout", 3)),
                    memory_mb=int(props.get("MemorySize", 128)),
                    events=props.get("Events", {}),
                    on_failure=self._on_failure_queue(props),
                    async_attempts=1 + int(props.get("EventInvokeConfig", {}).get("MaximumRetryAttempts", 2)),
                )
            )

    def _on_failure_queue(self, props: dict[str, Any]) -> str | None:
        """The queue URL of an `EventInvokeConfig` on-failure SQS destination, if the function has one."""
        destination = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
        if destination.get("Type") != "SQS":
            return None
        for (logical_id, attribute), value in self.resolver.attributes.items():
            if attribute == "Arn" and value == destination.get("Destination"):
                return self.provisioned.physical[logical_id]
        return None

    # ------------------------------------------------------------------ event sources
    def event_sources(
        self, runtime: LambdaRuntime, clients: Any, settings: PollerSettings, stop: threading.Event
    ) -> list[Poller]:
        queues = resources_of_type(self.template, "AWS::SQS::Queue")
        queue_urls = {
            value: self.provisioned.physical[logical_id]
            for (logical_id, attribute), value in self.resolver.attributes.items()
            if attribute == "Arn" and logical_id in queues
        }
        pollers: list[Poller] = []
        for logical_id in resources_of_type(self.template, "AWS::Serverless::Function"):
            spec = runtime.specs[self.provisioned.physical[logical_id]]
            for event_name, event in spec.events.items():
                kind, props = event["Type"], event.get("Properties", {})
                if kind == "Api":
                    continue
                if kind == "SQS":
                    pollers.append(
                        SqsEventSource(
                            sqs=clients("sqs"),
                            runtime=runtime,
                            function_name=spec.name,
                            queue_url=queue_urls[props["Queue"]],
                            queue_arn=props["Queue"],
                            batch_size=int(props.get("BatchSize", 10)),
                            report_batch_item_failures="ReportBatchItemFailures"
                            in props.get("FunctionResponseTypes", []),
                            settings=settings,
                            stop=stop,
                        )
                    )
                elif kind == "DynamoDB":
                    pollers.append(
                        DynamoDbStreamEventSource(
                            streams=clients("dynamodbstreams"),
                            runtime=runtime,
                            function_name=spec.name,
                            stream_arn=props["Stream"],
                            starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
                            batch_size=int(props.get("BatchSize", 100)),
                            max_retries=int(props.get("MaximumRetryAttempts", -1)),
                            settings=settings,
                            stop=stop,
                        )
                    )
                elif kind == "S3":
                    pollers.append(self._s3_source(clients, runtime, spec, event_name, props, settings, stop))
                elif kind in ("EventBridgeRule", "CloudWatchEvent"):
                    pollers.append(
                        self._rule_source(clients, runtime, spec, event_name, props, settings, stop)
                    )
                elif kind in ("Schedule", "ScheduleV2"):
                    self.schedules.extend(self._schedule_source(runtime, spec.name, event_name, props, stop))
                else:
                    raise NotImplementedError(f"{spec.logical_id}.{event_name}: event type {kind}")
        return [*pollers, *self.schedules]

    def _hidden_queue(self, clients: Any, function_name: str, event_name: str) -> tuple[str, str]:
        name = f"{self.stack_name}-{event_name}-to-{function_name}"[:80]
        url = clients("sqs").create_queue(QueueName=name)["QueueUrl"]
        return url, f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"

    def _s3_source(
        self,
        clients: Any,
        runtime: LambdaRuntime,
        spec: FunctionSpec,
        event_name: str,
        props: dict[str, Any],
        settings: PollerSettings,
        stop: threading.Event,
    ) -> Poller:
        url, arn = self._hidden_queue(clients, spec.name, event_name)
        events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
        configuration: dict[str, Any] = {"QueueArn": arn, "Events": events}
        if "Filter" in props:
            configuration["Filter"] = props["Filter"]
        clients("s3").put_bucket_notification_configuration(
            Bucket=props["Bucket"],
            NotificationConfiguration={"QueueConfigurations": [configuration]},
        )
        return _asynchronous(clients, runtime, spec, url, unwrap_s3, settings, stop)

    def _rule_source(
        self,
        clients: Any,
        runtime: LambdaRuntime,
        spec: FunctionSpec,
        event_name: str,
        props: dict[str, Any],
        settings: PollerSettings,
        stop: threading.Event,
    ) -> Poller:
        url, arn = self._hidden_queue(clients, spec.name, event_name)
        events = clients("events")
        bus = props.get("EventBusName", "default")
        rule = f"{spec.name}-{event_name}"[:64]
        events.put_rule(Name=rule, EventPattern=json.dumps(props["Pattern"]), EventBusName=bus)
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "local", "Arn": arn}])
        return _asynchronous(clients, runtime, spec, url, unwrap_eventbridge, settings, stop)

    def _schedule_source(
        self,
        runtime: LambdaRuntime,
        function: str,
        event_name: str,
        props: dict[str, Any],
        stop: threading.Event,
    ) -> list[ScheduleEventSource]:
        expression = props.get("Schedule") or props.get("ScheduleExpression", "")
        every = rate_seconds(expression)
        if every is None:
            log.warning(
                "%s.%s: %s is not run locally (only rate() schedules are)", function, event_name, expression
            )
            return []
        return [
            ScheduleEventSource(
                runtime=runtime,
                function_name=function,
                every_s=every,
                rule_arn=f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{function}-{event_name}",
                region=self.region,
                account=ACCOUNT_ID,
                stop=stop,
                payload=json.loads(props["Input"]) if "Input" in props else None,
            )
        ]

    # ------------------------------------------------------------------ API
    def api_routes(self) -> list[Route]:
        """Every `Api` event in the template, with whether a Cognito authorizer guards it."""
        apis = resources_of_type(self.template, "AWS::Serverless::Api")
        default_authorizers = {
            logical_id: api.get("Properties", {}).get("Auth", {}).get("DefaultAuthorizer")
            for logical_id, api in apis.items()
        }
        routes = []
        for logical_id, resource in resources_of_type(self.template, "AWS::Serverless::Function").items():
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                props = event["Properties"]
                api_id = props.get("RestApiId", {}).get("Ref", "")
                authorizer = props.get("Auth", {}).get("Authorizer", default_authorizers.get(api_id))
                routes.append(
                    Route(
                        method=props["Method"].upper(),
                        path=props["Path"],
                        function_name=self.provisioned.physical.get(logical_id, logical_id),
                        authorized=bool(authorizer) and authorizer != "NONE",
                    )
                )
        return routes

    def output(self, name: str) -> str:
        """A template output, resolved against what was provisioned."""
        return str(self.resolver.resolve(self.template["Outputs"][name]["Value"]))


def _asynchronous(
    clients: Any,
    runtime: LambdaRuntime,
    spec: FunctionSpec,
    queue_url: str,
    unwrap: Callable[[dict[str, Any]], dict[str, Any] | None],
    settings: PollerSettings,
    stop: threading.Event,
) -> AsyncQueueEventSource:
    """Asynchronous invocations from a hidden queue, with the function's retries and on-failure queue."""
    return AsyncQueueEventSource(
        sqs=clients("sqs"),
        runtime=runtime,
        function_name=spec.name,
        queue_url=queue_url,
        unwrap=unwrap,
        settings=settings,
        stop=stop,
        attempts=spec.async_attempts,
        on_failure_queue_url=spec.on_failure,
    )


def environment_of(seen: dict[str, str]) -> None:
    """Give the process the union of the functions' environments (see `register_functions`)."""
    os.environ.update(seen)
