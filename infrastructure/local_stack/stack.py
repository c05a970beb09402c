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
from werkzeug.wrappers import Request

from helpline import clock
from helpline.process import forget_process_state
from local_stack.cognito import CognitoAuthorizer
from local_stack.console import Audience, ConsoleSettings, ConsoleSite
from local_stack.deployment import ACCOUNT_ID, Deployment, environment_of
from local_stack.event_sources import Poller, PollerSettings, ScheduleEventSource
from local_stack.gateway import LocalApiGateway, Route
from local_stack.kms_state import install_key_state_hook, uninstall_key_state_hook
from local_stack.lambdas import LambdaRuntime, install_moto_hook, uninstall_moto_hook
from local_stack.powertools_isolation import isolate_router_state
from local_stack.provision import Provisioned
from local_stack.rehearsal import ROUTE as CLOCK_ROUTE
from local_stack.rehearsal import RehearsalClock
from local_stack.template import REPO_ROOT, TEMPLATE_PATH, resources_of_type

log = logging.getLogger("local_stack")
GROUPS_RESOURCE = "AWS::Cognito::UserPoolGroup"
SEED_PATH = Path(__file__).with_name("seed.json")
CUSTODIAN_TEMPLATE_PATH = REPO_ROOT / "infrastructure" / "custodian" / "template.yaml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LocalStackConfig:
    api_port: int = 3000
    custodian_api_port: int = 0  # 0: any free loopback port
    aws_port: int = 0  # 0: any free loopback port
    region: str = "eu-west-1"
    stack_name: str = "helpline-local"
    custodian_stack_name: str = ""
    """Default `<stack_name>-custodian`: moto's state is process-wide, so stacks in one process
    (tests) must not share names."""
    stage: str = "local"
    template_path: Path = TEMPLATE_PATH
    custodian_template_path: Path = CUSTODIAN_TEMPLATE_PATH
    outputs_path: Path | None = REPO_ROOT / ".local" / "outputs.json"
    seed_path: Path | None = SEED_PATH
    retry_delay_s: int = 1
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


class LocalStack:
    """Both stacks on one stand-in: the organisation's API on `api_port`, the custodian's on its own."""

    def __init__(self, config: LocalStackConfig | None = None) -> None:
        self.config = config or LocalStackConfig()
        if not self.config.custodian_stack_name:
            self.config.custodian_stack_name = f"{self.config.stack_name}-custodian"
        self.org = Deployment(
            self.config.template_path,
            self.config.stack_name,
            self.config.region,
            {
                "Stage": "dev",
                "CustodianAccountId": ACCOUNT_ID,
                "CustodianStackName": self.config.custodian_stack_name,
            },
        )
        self.custodian = Deployment(
            self.config.custodian_template_path,
            self.config.custodian_stack_name,
            self.config.region,
            {"OrganisationAccountId": ACCOUNT_ID, "OrganisationStackName": self.config.stack_name},
        )
        self.template = self.org.template
        self.runtime = LambdaRuntime()
        self.outputs: dict[str, Any] = {}
        self.routes: list[Route] = []
        self._stop = threading.Event()
        self._pollers: list[Poller] = []
        self._moto: ThreadedMotoServer | None = None
        self._saved_environ: dict[str, str] = {}
        self._http: BaseWSGIServer | None = None
        self._custodian_http: BaseWSGIServer | None = None
        self.gateway: LocalApiGateway | None = None
        self.custodian_gateway: LocalApiGateway | None = None
        self.rehearsal = RehearsalClock(self._schedules, lambda: self.client("dynamodb"), self._ttl_tables)
        self._serving = False
        self.aws_endpoint = ""
        self.api_url = ""
        self.custodian_api_url = ""

    @property
    def provisioned(self) -> Provisioned:
        """What the organisation's template created (the custodian's: `self.custodian.provisioned`)."""
        return self.org.provisioned

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
        install_key_state_hook(now=clock.now)  # a key retired at T is destroyed at T + window, on this clock
        isolate_router_state()
        # A new deployment: the shared code must not keep clients, settings or a moved clock.
        forget_process_state()
        clock.reset()

        # The APIs' ports are taken first: a function's environment may name an API's URL.
        self._http = make_server("127.0.0.1", self.config.api_port, self._serve, threaded=True)
        self._custodian_http = make_server(
            "127.0.0.1", self.config.custodian_api_port, self._serve_custodian, threaded=True
        )
        self.api_url = f"http://127.0.0.1:{self._http.server_port}"
        self.custodian_api_url = f"http://127.0.0.1:{self._custodian_http.server_port}"
        self.org.local_parameters(self.api_url)
        self.custodian.local_parameters(self.custodian_api_url)
        self.custodian.provision(self.client, self.config.environ)
        self.org.provision(self.client, self.config.environ)
        seen: dict[str, str] = {}
        self.custodian.register_functions(self.runtime, seen)
        self.org.register_functions(self.runtime, seen)
        environment_of(seen)
        self.runtime.warm()
        self._start_event_sources()
        self._start_gateways()
        demo_users = self._create_demo_users(self.org) | self._create_demo_users(self.custodian)
        self._seed(demo_users)
        self.outputs = {
            "ApiUrl": self.api_url,
            "ConsoleUrl": f"{self.api_url}/console/",  # the same console on both APIs (console.py)
            "CustodianConsoleUrl": f"{self.custodian_api_url}/console/",
            "AwsEndpoint": self.aws_endpoint,
            "Region": self.config.region,
            "UserPoolId": self.org.provisioned.user_pool_id,
            "UserPoolClientId": self._client_id(self.org),
            "CustodianApiUrl": self.custodian_api_url,
            "CustodianUserPoolId": self.custodian.provisioned.user_pool_id,
            "CustodianUserPoolClientId": self._client_id(self.custodian),
            "DemoUsers": demo_users,
            **self.org.provisioned.secrets,
            **self.custodian.provisioned.secrets,
            "Resources": self.org.provisioned.physical,
            "CustodianResources": self.custodian.provisioned.physical,
        }
        if self.config.outputs_path is not None:
            self.config.outputs_path.parent.mkdir(parents=True, exist_ok=True)
            self.config.outputs_path.write_text(json.dumps(self.outputs, indent=2) + "\n", encoding="utf-8")
        return self

    def stop(self) -> None:
        self._stop.set()
        if not self._saved_environ:
            return  # never started
        for server in (self._http, self._custodian_http):
            if server is not None:
                if self._serving:
                    server.shutdown()
                server.server_close()
        for poller in self._pollers:
            if poller.ident is not None:  # started
                poller.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()
        uninstall_key_state_hook()
        uninstall_moto_hook()
        clock.reset()
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

    @staticmethod
    def _client_id(deployment: Deployment) -> str:
        client_ids = deployment.provisioned.client_ids
        return sorted(client_ids)[0] if client_ids else ""

    def _schedules(self) -> list[ScheduleEventSource]:
        return [*self.custodian.schedules, *self.org.schedules]

    def _ttl_tables(self) -> dict[str, str]:
        """Physical table name -> TTL attribute, for every table of both templates that has TTL on."""
        tables: dict[str, str] = {}
        for deployment in (self.custodian, self.org):
            for logical_id, table in resources_of_type(deployment.template, "AWS::DynamoDB::Table").items():
                ttl = table.get("Properties", {}).get("TimeToLiveSpecification", {})
                if ttl.get("Enabled"):
                    tables[deployment.provisioned.physical[logical_id]] = ttl["AttributeName"]
        return tables

    # ------------------------------------------------------------------ event sources
    def _start_event_sources(self) -> None:
        settings = PollerSettings(retry_delay_s=self.config.retry_delay_s)
        for deployment in (self.custodian, self.org):
            self._pollers.extend(deployment.event_sources(self.runtime, self.client, settings, self._stop))
        # Scheduled work runs once before anything is served: the key stewards create this month's
        # keys, without which nothing could be encrypted.
        self.rehearsal.run_schedules()
        for poller in self._pollers:
            poller.start()

    # ------------------------------------------------------------------ API
    def api_routes(self) -> list[Route]:
        """Every `Api` event of the organisation's template."""
        return self.org.api_routes()

    def _authorizer(self, deployment: Deployment) -> CognitoAuthorizer | None:
        pool_id = deployment.provisioned.user_pool_id
        if not pool_id:
            return None
        jwks = requests.get(
            f"{self.aws_endpoint}/{pool_id}/.well-known/jwks.json",
            headers={"Host": f"cognito-idp.{self.config.region}.amazonaws.com"},
            timeout=10,
        ).json()
        return CognitoAuthorizer(
            jwks,
            issuer=f"https://cognito-idp.{self.config.region}.amazonaws.com/{pool_id}",
            client_ids=deployment.provisioned.client_ids,
        )

    def _console(self, deployment: Deployment, audience: Audience) -> ConsoleSite:
        """The console on a deployment's API: its user pool and app client (as in the outputs)."""
        return ConsoleSite(
            ConsoleSettings(
                region=self.config.region,
                user_pool_id=deployment.provisioned.user_pool_id,
                user_pool_client_id=self._client_id(deployment),
                audience=audience,
                aws_endpoint=self.aws_endpoint,
            )
        )

    def _start_gateways(self) -> None:
        self.routes = self.org.api_routes()
        self.gateway = LocalApiGateway(
            self.routes,
            self.runtime,
            self._authorizer(self.org),
            self.config.stage,
            console=self._console(self.org, "organisation"),
        )
        self.custodian_gateway = LocalApiGateway(
            self.custodian.api_routes(),
            self.runtime,
            self._authorizer(self.custodian),
            "custodian",
            console=self._console(self.custodian, "custodian"),
        )
        for server, name in ((self._http, "local-api"), (self._custodian_http, "local-custodian-api")):
            assert server is not None
            threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        self._serving = True

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The local API's WSGI entry: the gateway, once it is built, and the rehearsal clock."""
        if self.gateway is None:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message":"starting"}']
        if environ.get("PATH_INFO") == CLOCK_ROUTE and environ.get("REQUEST_METHOD") == "POST":
            return self.rehearsal.wsgi(Request(environ))(environ, start_response)
        return self.gateway(environ, start_response)

    def _serve_custodian(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.custodian_gateway is None:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message":"starting"}']
        return self.custodian_gateway(environ, start_response)

    # ------------------------------------------------------------------ demo data
    def _create_demo_users(self, deployment: Deployment) -> dict[str, dict[str, str]]:
        """One demo user per Cognito group of the template, with a generated password."""
        pool_id = deployment.provisioned.user_pool_id
        if not pool_id:
            return {}
        cognito = self.client("cognito-idp")
        users: dict[str, dict[str, str]] = {}
        for group in resources_of_type(deployment.template, GROUPS_RESOURCE).values():
            name = group["Properties"]["GroupName"]
            username, password = f"demo-{name}", f"Demo-{secrets.token_urlsafe(12)}-9a"
            cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=username, Password=password, Permanent=True
            )
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=name)
            users[name] = {"username": username, "password": password}
        return users

    def id_token(self, username: str, password: str, *, custodian: bool = False) -> str:
        """Sign in to a user pool of the stand-in; returns the ID token API Gateway's authorizer takes."""
        result = self.client("cognito-idp").initiate_auth(
            ClientId=self._client_id(self.custodian if custodian else self.org),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        token: str = result["AuthenticationResult"]["IdToken"]
        return token

    def _seed(self, demo_users: dict[str, dict[str, str]]) -> None:
        """Register the demo line registry of a fresh stack, each line on the audit chain.

        Written through the data layer, not `PUT /lines`: the seed holds an office line, which through
        the API is a proposal that needs a second admin (four eyes, P11), and no second admin exists
        at start-up. The seed is the deployment's own bootstrap, like the template, so it is recorded as
        `line.seeded` by `local-stack-seed`, never as an admin's act; it never overwrites a line, and
        an address held twice is refused as the API refuses it. Every later change goes through the API.
        """
        if self.config.seed_path is None or "admin" not in demo_users:
            return
        # Imported here: only the seed writes to the organisation's tables itself.
        from helpline.dal.audit import DynamoAuditLog
        from helpline.dal.lines import DynamoLinesRepository
        from helpline.logic.audit import record
        from helpline.logic.lines import address_holder, stamped
        from helpline.models.lines import LineIn

        seed = json.loads(self.config.seed_path.read_text(encoding="utf-8"))
        physical = self.org.provisioned.physical
        registry = DynamoLinesRepository(physical["LinesTable"])
        audit = DynamoAuditLog(physical["AuditTable"])
        actor, now = "local-stack-seed", clock.now()
        for line_id, raw in seed.get("lines", {}).items():
            line = LineIn.model_validate(raw)
            holder = address_holder(registry.list_lines(), line_id, line.channel, line.address)
            if holder is not None:
                raise RuntimeError(f"seeding line {line_id} failed: its address is held by {holder}")
            if not registry.put_line_if(stamped(line_id, line, actor, now), expected=None):
                continue  # already registered: the seed never overwrites
            record(
                audit,
                now,
                actor,
                "line.seeded",
                line_id,
                kind=line.kind,
                channel=line.channel,
                address=line.address,
            )
