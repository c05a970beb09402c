"""Create the template's resources on the embedded AWS stand-in.

Each provisioner reads a resource's own properties from `template.yaml` and records what `Ref` and
`Fn::GetAtt` return for it, so that later resources (and function environments) resolve against the
local physical ids. Types with no local meaning (IAM roles, log groups, alarms, layers) are listed in
`NOT_PROVISIONED` with the reason, so a test can tell "skipped on purpose" from "forgotten".
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.template import REPO_ROOT, Resolver

DEFAULT_RUNTIME = "python3.13"


def _placeholder_code() -> bytes:
    """The code the stand-in stores for a function: never run, the in-process handler is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Run in process by the local stack; see local_stack.lambdas.\n")
    return buffer.getvalue()


_PLACEHOLDER_CODE = _placeholder_code()

NOT_PROVISIONED = {
    "AWS::Logs::LogGroup": "handlers log to the local stack's console",
    "AWS::CloudWatch::Alarm": "no metrics locally",
    "AWS::CloudWatch::Dashboard": "no metrics locally",
    "AWS::SNS::Subscription": "no e-mail locally",
    "AWS::S3::BucketPolicy": "bucket policies are not enforced locally",
    "AWS::SQS::QueuePolicy": "queue policies are not enforced locally (and no EventBridge delivers to a DLQ)",
    "AWS::Serverless::LayerVersion": "the domain package is installed in the virtualenv",
    "AWS::Serverless::Api": "served by the local API gateway (gateway.py)",
    "AWS::Lambda::Permission": "who may invoke a function is not enforced locally",
    "AWS::SES::ReceiptRuleSet": "no SES locally: put raw mail (MIME) in the mail bucket instead",
    "AWS::SES::ReceiptRule": "no SES locally: put raw mail (MIME) in the mail bucket instead",
    "AWS::WAFv2::WebACL": "no WAF locally: the per-IP rate limits are not enforced by the local gateway",
    "AWS::WAFv2::WebACLAssociation": "no WAF locally: the per-IP rate limits are not enforced",
    "AWS::CloudFront::Distribution": "each local API serves the console itself at /console/ (console.py)",
    "AWS::CloudFront::OriginAccessControl": "no CloudFront locally: the console is not read from its bucket",
    "AWS::CloudFront::ResponseHeadersPolicy": "console.py sets the same security headers on /console/",
}


@dataclass
class Provisioned:
    """What the local stack created, by logical id."""

    physical: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # output name -> value
    user_pool_id: str = ""
    client_ids: set[str] = field(default_factory=set)


class Provisioner:
    def __init__(
        self,
        template: dict[str, Any],
        resolver: Resolver,
        clients: Callable[[str], Any],
        stack_name: str,
        environ: dict[str, str],
        template_dir: Path = REPO_ROOT,
    ) -> None:
        self._template = template
        self._resolver = resolver
        self._client = clients
        self._stack = stack_name
        self._environ = environ
        self._template_dir = template_dir
        self._region = resolver.pseudo["AWS::Region"]
        self._account = resolver.pseudo["AWS::AccountId"]
        self.result = Provisioned()

    # Order matters only through references: keys before aliases, queues before their users, ...
    ORDER = (
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::SecretsManager::Secret",
        "AWS::S3::Bucket",
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolGroup",
        "AWS::IAM::Role",
        "AWS::Serverless::StateMachine",  # names its functions by ARN; functions take its ARN in their env
        "AWS::Serverless::Function",
    )

    def run(self) -> Provisioned:
        resources: dict[str, dict[str, Any]] = self._template.get("Resources", {})
        unknown = {
            r["Type"]
            for r in resources.values()
            if r["Type"] not in self.ORDER and r["Type"] not in NOT_PROVISIONED
        }
        if unknown:
            raise NotImplementedError(f"the local stack cannot provision {sorted(unknown)}")
        for logical_id, resource in resources.items():
            if resource["Type"] in NOT_PROVISIONED:
                # Still referable: a function's Api event names its RestApiId, a layer is in Globals.
                name = self._name(logical_id)
                self._record(logical_id, name, Arn=f"arn:aws:local:{self._region}:{self._account}:{name}")
        for resource_type in self.ORDER:
            batch = {k: v for k, v in resources.items() if v["Type"] == resource_type}
            if resource_type == "AWS::SQS::Queue":
                batch = dict(
                    sorted(batch.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
                )
            for logical_id, resource in batch.items():
                if "Condition" in resource and not self._resolver.condition(resource["Condition"]):
                    continue
                provision = getattr(self, "_" + resource_type.split("::")[-1].lower())
                # A resource may say what differs locally, and why, in `Metadata.LocalStack.Properties`
                # (the demo user pools sign in with a password): it is laid over its properties.
                local = resource.get("Metadata", {}).get("LocalStack", {}).get("Properties", {})
                props = {**resource.get("Properties", {}), **local}
                if resource_type == "AWS::IAM::Role":
                    # Only its name matters locally; its policies name resources provisioned later.
                    props = {k: v for k, v in props.items() if k == "RoleName"}
                provision(logical_id, self._resolver.resolve(props), resource)
        return self.result

    def _name(self, logical_id: str) -> str:
        return f"{self._stack}-{logical_id}"

    def _record(self, logical_id: str, ref: str, **attributes: str) -> None:
        self._resolver.refs[logical_id] = ref
        self.result.physical[logical_id] = ref
        for name, value in attributes.items():
            self._resolver.attributes[(logical_id, name)] = value

    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self._region if region else ''}:{self._account}:{resource}"

    # ------------------------------------------------------------------ resource types
    def _key(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        kms = self._client("kms")
        args: dict[str, Any] = {
            "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "Description": props.get("Description", logical_id),
        }
        if "KeyPolicy" in props:
            args["Policy"] = json.dumps(props["KeyPolicy"])
        key = kms.create_key(**args)["KeyMetadata"]
        self._record(logical_id, key["KeyId"], Arn=key["Arn"], KeyId=key["KeyId"])

    def _alias(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        self._client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        self._record(logical_id, props["AliasName"])

    def _table(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        dynamodb = self._client("dynamodb")
        name = props.get("TableName", self._name(logical_id))
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in props:
                args[key] = props[key]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        table = dynamodb.create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        attributes = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attributes["StreamArn"] = table["LatestStreamArn"]
        self._record(logical_id, name, **attributes)

    def _queue(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        sqs = self._client("sqs")
        name = props.get("QueueName", self._name(logical_id))
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "KmsMasterKeyId",
        ):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._arn("sqs", name)
        self._record(logical_id, url, Arn=arn, QueueName=name, QueueUrl=url)

    def _topic(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        arn = self._client("sns").create_topic(Name=props.get("TopicName", self._name(logical_id)))[
            "TopicArn"
        ]
        self._record(logical_id, arn, TopicArn=arn, TopicName=arn.rsplit(":", 1)[-1])

    def _secret(self, logical_id: str, props: dict[str, Any], resource: dict[str, Any]) -> None:
        local = resource.get("Metadata", {}).get("LocalStack", {})
        env_name = local.get("EnvironmentVariable", "")
        value = self._environ.get(env_name) if env_name else None
        if not value:
            value = secrets.token_urlsafe(32)
        response = self._client("secretsmanager").create_secret(
            Name=props.get("Name", self._name(logical_id)), SecretString=value
        )
        self.result.secrets[local.get("Output", logical_id)] = value
        self._record(logical_id, response["ARN"], Id=response["ARN"])

    def _bucket(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        name = props.get("BucketName", self._name(logical_id).lower())
        s3 = self._client("s3")
        s3.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": self._region},
            ObjectLockEnabledForBucket=bool(props.get("ObjectLockEnabled", False)),
        )
        lock = props.get("ObjectLockConfiguration")
        if lock:
            retention = dict(lock.get("Rule", {}).get("DefaultRetention", {}))
            for unit in ("Days", "Years"):
                if unit in retention:
                    retention[unit] = int(retention[unit])
            s3.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": lock.get("ObjectLockEnabled", "Enabled"),
                    **({"Rule": {"DefaultRetention": retention}} if retention else {}),
                },
            )
        versioning = props.get("VersioningConfiguration", {}).get("Status")
        if versioning:
            # Versioned as in the cloud: a delete without a version id leaves the old version behind.
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        self._record(logical_id, name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com")

    def _userpool(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        args = {
            k: v for k, v in props.items() if k in ("Policies", "AdminCreateUserConfig", "MfaConfiguration")
        }
        pool = self._client("cognito-idp").create_user_pool(PoolName=self._name(logical_id), **args)[
            "UserPool"
        ]
        self.result.user_pool_id = pool["Id"]
        self._record(
            logical_id,
            pool["Id"],
            Arn=pool["Arn"],
            ProviderName=f"cognito-idp.{self._region}.amazonaws.com/{pool['Id']}",
        )

    def _userpoolclient(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        client = self._client("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=self._name(logical_id),
            GenerateSecret=bool(props.get("GenerateSecret", False)),
            ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
        )["UserPoolClient"]
        self.result.client_ids.add(client["ClientId"])
        self._record(logical_id, client["ClientId"])

    def _userpoolgroup(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        args = {"GroupName": props["GroupName"], "UserPoolId": props["UserPoolId"]}
        if "Description" in props:
            args["Description"] = props["Description"]
        self._client("cognito-idp").create_group(**args)
        self._record(logical_id, props["GroupName"])

    def _role(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        # Only its name and ARN: IAM is not enforced locally; tests check roles against the template.
        name = props.get("RoleName", self._name(logical_id))
        self._record(logical_id, name, Arn=f"arn:aws:iam::{self._account}:role/{name}")

    def _function(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        """Registered with the stand-in's Lambda too, so `aws lambda list-functions` lists it and
        `aws lambda invoke` runs its handler in process (`lambdas.install_moto_hook`): an Amazon Connect
        contact flow, which invokes its function directly, can be rehearsed with a real client."""
        name = props.get("FunctionName", self._name(logical_id))
        self._client("lambda").create_function(
            FunctionName=name,
            Runtime=props.get("Runtime", DEFAULT_RUNTIME),
            Role=self._function_role(),
            Handler=props.get("Handler", "app.lambda_handler"),
            Code={"ZipFile": _PLACEHOLDER_CODE},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Description=str(props.get("Description", logical_id))[:256],
        )
        arn = self._arn("lambda", f"function:{name}")
        self._record(logical_id, name, Arn=arn)

    def _function_role(self) -> str:
        """One execution role for every function: moto wants one that exists; IAM is not enforced here."""
        iam = self._client("iam")
        name = f"{self._stack}-local-functions"
        try:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            return str(
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            )

    def _statemachine(self, logical_id: str, props: dict[str, Any], _: dict[str, Any]) -> None:
        definition = (self._template_dir / Path(props["DefinitionUri"])).read_text(encoding="utf-8")
        for name, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(value))
        name = props.get("Name", self._name(logical_id))
        arn = self._client("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=f"arn:aws:iam::{self._account}:role/{name}-role",
            type=props.get("Type", "STANDARD"),
        )["stateMachineArn"]
        self._record(logical_id, arn, Name=name, Arn=arn)
