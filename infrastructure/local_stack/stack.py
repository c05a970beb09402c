"""The embedded local stack: moto's server in-process, provisioned from `template.yaml`, with the
template's functions running in-process behind a local API gateway and their other event sources.

`make run` starts it in the foreground; tests start it on free ports with `LocalStack(...).start()`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer, make_server

from helpline.process import forget_process_state
from local_stack.cognito import CognitoAuthorizer
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
from local_stack.gateway import LocalApiGateway, Route
from local_stack.lambdas import FunctionSpec, LambdaRuntime, install_moto_hook, uninstall_moto_hook
from local_stack.powertools_isolation import isolate_router_state
from local_stack.provision import Provisioned, Provisioner
from local_stack.template import (
    REPO_ROOT,
    TEMPLATE_PATH,
    Resolver,
    load_template,
    resources_of_type,
)

log = logging.getLogger("local_stack")
ACCOUNT_ID = "123456789012"
GROUPS_RESOURCE = "AWS::Cognito::UserPoolGroup"
SEED_PATH = Path(__file__).with_name("seed.json")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LocalStackConfig:
    api_port: int = 3000
    aws_port: int = 0  # 0: any free loopback port
    region: str = "eu-west-1"
    stack_name: str = "helpline-local"
    stage: str = "local"
    template_path: Path = TEMPLATE_PATH
    outputs_path: Path | None = REPO_ROOT / ".local" / "outputs.json"
    seed_path: Path | None = SEED_PATH
    retry_delay_s: int = 1
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


class LocalStack:
    def __init__(self, config: LocalStackConfig | None = None) -> None:
        self.config = config or LocalStackConfig()
        self.template = load_template(self.config.template_path)
        self.runtime = LambdaRuntime()
        self.outputs: dict[str, Any] = {}
        self.provisioned = Provisioned()
        self.routes: list[Route] = []
        self._stop = threading.Event()
        self._pollers: list[Poller] = []
        self._moto: ThreadedMotoServer | None = None
        self._saved_environ: dict[str, str] = {}
        self._http: BaseWSGIServer | None = None
        self._resolver: Resolver | None = None
        self.gateway: LocalApiGateway | None = None
        self._serving = False
        self.aws_endpoint = ""
        self.api_url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        """Start everything; on a failure, undo what was started (the process may go on: tests)."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> LocalStack:
        self._saved_environ = dict(os.environ)
        # The stand-in's werkzeug access log would print every SDK call's query string; ours is enough.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        aws_port = self.config.aws_port or free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)
        self._moto.start()
        self.aws_endpoint = f"http://127.0.0.1:{aws_port}"
        self._point_sdk_at_stand_in(aws_port)
        install_moto_hook(self.runtime)
        isolate_router_state()
        # A new deployment: the shared code must not keep clients or settings of an earlier stack.
        forget_process_state()

        self._resolver = Resolver(
            template=self.template,
            pseudo={
                "AWS::Region": self.config.region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::StackName": self.config.stack_name,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": "",
            },
            parameters={"Stage": "dev"},
        )
        # The API's port is taken first: a function's environment may name the API's URL.
        self._http = make_server("127.0.0.1", self.config.api_port, self._serve, threaded=True)
        self.api_url = f"http://127.0.0.1:{self._http.server_port}"
        local_parameters = self.template.get("Metadata", {}).get("LocalStack", {}).get("Parameters", {})
        for name, value in local_parameters.items():
            self._resolver.parameters[name] = str(value).replace("{ApiUrl}", self.api_url)
        self.provisioned = Provisioner(
            self.template, self._resolver, self.client, self.config.stack_name, self.config.environ
        ).run()
        self._register_functions()
        self.runtime.warm()
        self._start_event_sources()
        self._start_gateway()
        demo_users = self._create_demo_users()
        self._seed(demo_users)
        self.outputs = {
            "ApiUrl": self.api_url,
            "AwsEndpoint": self.aws_endpoint,
            "Region": self.config.region,
            "UserPoolId": self.provisioned.user_pool_id,
            "UserPoolClientId": self._client_id,
            "DemoUsers": demo_users,
            **self.provisioned.secrets,
            "Resources": self.provisioned.physical,
        }
        if self.config.outputs_path is not None:
            self.config.outputs_path.parent.mkdir(parents=True, exist_ok=True)
            self.config.outputs_path.write_text(json.dumps(self.outputs, indent=2) + "\n", encoding="utf-8")
        return self

    def stop(self) -> None:
        self._stop.set()
        if not self._saved_environ:
            return  # never started
        if self._http is not None:
            if self._serving:
                self._http.shutdown()
            self._http.server_close()
        for poller in self._pollers:
            if poller.ident is not None:  # started
                poller.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()
        uninstall_moto_hook()
        os.environ.clear()
        os.environ.update(self._saved_environ)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers
    def client(self, service: str) -> Any:
        """A boto3 client for the embedded stand-in."""
        return boto3.client(service, region_name=self.config.region, endpoint_url=self.aws_endpoint)  # type: ignore[call-overload]

    def _point_sdk_at_stand_in(self, aws_port: int) -> None:
        """Every SDK call of the in-process handlers goes to the stand-in, with dummy credentials."""
        settings = {
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_REGION": self.config.region,
            "MOTO_PORT": str(aws_port),  # where moto's Step Functions engine calls Lambda
            "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon locally
            "POWERTOOLS_METRICS_DISABLED": "1",
        }
        os.environ.update(settings)

    @property
    def _client_id(self) -> str:
        return sorted(self.provisioned.client_ids)[0] if self.provisioned.client_ids else ""

    def _function_properties(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A function's properties with the template's `Globals.Function` applied, as SAM does."""
        assert self._resolver is not None
        merged = dict(self.template.get("Globals", {}).get("Function", {}))
        own = resource.get("Properties", {})
        for key, value in own.items():
            if key == "Environment":
                variables = dict(merged.get("Environment", {}).get("Variables", {}))
                variables.update(value.get("Variables", {}))
                merged["Environment"] = {"Variables": variables}
            else:
                merged[key] = value
        resolved: dict[str, Any] = self._resolver.resolve(merged)
        return resolved

    def _register_functions(self) -> None:
        """Register each function and give the process the union of their environments.

        Handlers share one process locally, so a variable must mean the same for every function that
        has it; a clash is a template error worth failing on.
        """
        seen: dict[str, str] = {}
        for logical_id, resource in resources_of_type(self.template, "AWS::Serverless::Function").items():
            props = self._function_properties(resource)
            for name, value in props.get("Environment", {}).get("Variables", {}).items():
                if seen.setdefault(name, str(value)) != str(value):
                    raise ValueError(f"environment variable {name} differs between functions")
            name = self.provisioned.physical[logical_id]
            self.runtime.register(
                FunctionSpec(
                    logical_id=logical_id,
                    name=name,
                    arn=f"arn:aws:lambda:{self.config.region}:{ACCOUNT_ID}:function:{name}",
                    code_dir=REPO_ROOT / props["CodeUri"],
                    handler=props["Handler"],
                    timeout_s=int(props.get("Timeout", 3)),
                    memory_mb=int(props.get("MemorySize", 128)),
                    events=props.get("Events", {}),
                )
            )
        os.environ.update(seen)

    # ------------------------------------------------------------------ event sources
    def _start_event_sources(self) -> None:
        settings = PollerSettings(retry_delay_s=self.config.retry_delay_s)
        sqs = self.client("sqs")
        queue_urls = {
            value: self.provisioned.physical[logical_id]
            for (logical_id, attribute), value in self._resolver_attributes().items()
            if attribute == "Arn" and logical_id in resources_of_type(self.template, "AWS::SQS::Queue")
        }
        for spec in self.runtime.specs.values():
            for event_name, event in spec.events.items():
                kind, props = event["Type"], event.get("Properties", {})
                if kind == "Api":
                    continue
                if kind == "SQS":
                    self._pollers.append(
                        SqsEventSource(
                            sqs=sqs,
                            runtime=self.runtime,
                            function_name=spec.name,
                            queue_url=queue_urls[props["Queue"]],
                            queue_arn=props["Queue"],
                            batch_size=int(props.get("BatchSize", 10)),
                            report_batch_item_failures="ReportBatchItemFailures"
                            in props.get("FunctionResponseTypes", []),
                            settings=settings,
                            stop=self._stop,
                        )
                    )
                elif kind == "DynamoDB":
                    self._pollers.append(
                        DynamoDbStreamEventSource(
                            streams=self.client("dynamodbstreams"),
                            runtime=self.runtime,
                            function_name=spec.name,
                            stream_arn=props["Stream"],
                            starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
                            batch_size=int(props.get("BatchSize", 100)),
                            max_retries=int(props.get("MaximumRetryAttempts", -1)),
                            settings=settings,
                            stop=self._stop,
                        )
                    )
                elif kind == "S3":
                    self._pollers.append(self._s3_source(spec.name, event_name, props, settings))
                elif kind in ("EventBridgeRule", "CloudWatchEvent"):
                    self._pollers.append(self._rule_source(spec.name, event_name, props, settings))
                elif kind in ("Schedule", "ScheduleV2"):
                    self._pollers.extend(self._schedule_source(spec.name, event_name, props))
                else:
                    raise NotImplementedError(f"{spec.logical_id}.{event_name}: event type {kind}")
        for poller in self._pollers:
            poller.start()

    def _resolver_attributes(self) -> dict[tuple[str, str], str]:
        assert self._resolver is not None
        return self._resolver.attributes

    def _hidden_queue(self, function_name: str, event_name: str) -> tuple[str, str]:
        name = f"{self.config.stack_name}-{event_name}-to-{function_name}"[:80]
        url = self.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        return url, f"arn:aws:sqs:{self.config.region}:{ACCOUNT_ID}:{name}"

    def _s3_source(
        self, function: str, event_name: str, props: dict[str, Any], settings: PollerSettings
    ) -> Poller:
        url, arn = self._hidden_queue(function, event_name)
        events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
        configuration: dict[str, Any] = {"QueueArn": arn, "Events": events}
        if "Filter" in props:
            configuration["Filter"] = props["Filter"]
        self.client("s3").put_bucket_notification_configuration(
            Bucket=props["Bucket"],
            NotificationConfiguration={"QueueConfigurations": [configuration]},
        )
        return AsyncQueueEventSource(
            sqs=self.client("sqs"),
            runtime=self.runtime,
            function_name=function,
            queue_url=url,
            unwrap=unwrap_s3,
            settings=settings,
            stop=self._stop,
        )

    def _rule_source(
        self, function: str, event_name: str, props: dict[str, Any], settings: PollerSettings
    ) -> Poller:
        url, arn = self._hidden_queue(function, event_name)
        events = self.client("events")
        bus = props.get("EventBusName", "default")
        rule = f"{function}-{event_name}"[:64]
        events.put_rule(Name=rule, EventPattern=json.dumps(props["Pattern"]), EventBusName=bus)
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "local", "Arn": arn}])
        return AsyncQueueEventSource(
            sqs=self.client("sqs"),
            runtime=self.runtime,
            function_name=function,
            queue_url=url,
            unwrap=unwrap_eventbridge,
            settings=settings,
            stop=self._stop,
        )

    def _schedule_source(self, function: str, event_name: str, props: dict[str, Any]) -> list[Poller]:
        expression = props.get("Schedule") or props.get("ScheduleExpression", "")
        every = rate_seconds(expression)
        if every is None:
            log.warning(
                "%s.%s: %s is not run locally (only rate() schedules are)",
                function,
                event_name,
                expression,
            )
            return []
        return [
            ScheduleEventSource(
                runtime=self.runtime,
                function_name=function,
                every_s=every,
                rule_arn=f"arn:aws:events:{self.config.region}:{ACCOUNT_ID}:rule/{function}-{event_name}",
                region=self.config.region,
                account=ACCOUNT_ID,
                stop=self._stop,
            )
        ]

    # ------------------------------------------------------------------ API
    def api_routes(self) -> list[Route]:
        """Every `Api` event in the template, with whether the Cognito authorizer guards it."""
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

    def _start_gateway(self) -> None:
        self.routes = self.api_routes()
        pool_id = self.provisioned.user_pool_id
        authorizer = None
        if pool_id:
            jwks = requests.get(
                f"{self.aws_endpoint}/{pool_id}/.well-known/jwks.json",
                headers={"Host": f"cognito-idp.{self.config.region}.amazonaws.com"},
                timeout=10,
            ).json()
            authorizer = CognitoAuthorizer(
                jwks,
                issuer=f"https://cognito-idp.{self.config.region}.amazonaws.com/{pool_id}",
                client_ids=self.provisioned.client_ids,
            )
        self.gateway = LocalApiGateway(self.routes, self.runtime, authorizer, self.config.stage)
        assert self._http is not None
        threading.Thread(target=self._http.serve_forever, name="local-api", daemon=True).start()
        self._serving = True

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The local API's WSGI entry: the gateway, once it is built."""
        if self.gateway is None:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message":"starting"}']
        return self.gateway(environ, start_response)

    # ------------------------------------------------------------------ demo data
    def _create_demo_users(self) -> dict[str, dict[str, str]]:
        """One demo user per Cognito group of the template, with a generated password."""
        pool_id = self.provisioned.user_pool_id
        if not pool_id:
            return {}
        cognito = self.client("cognito-idp")
        users: dict[str, dict[str, str]] = {}
        for group in resources_of_type(self.template, GROUPS_RESOURCE).values():
            name = group["Properties"]["GroupName"]
            username, password = f"demo-{name}", f"Demo-{secrets.token_urlsafe(12)}-9a"
            cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=username, Password=password, Permanent=True
            )
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=name)
            users[name] = {"username": username, "password": password}
        return users

    def id_token(self, username: str, password: str) -> str:
        """Sign in to the embedded user pool; returns the ID token API Gateway's authorizer takes."""
        result = self.client("cognito-idp").initiate_auth(
            ClientId=self._client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        token: str = result["AuthenticationResult"]["IdToken"]
        return token

    def _seed(self, demo_users: dict[str, dict[str, str]]) -> None:
        """Register the demo line registry through the real API, as an admin would."""
        if self.config.seed_path is None or "admin" not in demo_users:
            return
        seed = json.loads(self.config.seed_path.read_text(encoding="utf-8"))
        admin = demo_users["admin"]
        token = self.id_token(admin["username"], admin["password"])
        for line_id, line in seed.get("lines", {}).items():
            response = requests.put(
                f"{self.api_url}/lines/{line_id}",
                json=line,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            if response.status_code != 200:
                raise RuntimeError(f"seeding line {line_id} failed with HTTP {response.status_code}")
