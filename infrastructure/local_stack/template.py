"""Read `template.yaml`, the single source of truth, and resolve the intrinsics the local stack needs.

The local stack provisions from the same file that SAM deploys, so local and cloud cannot drift
(DESIGN: "One source of truth"). Only the intrinsic functions the template uses are resolved here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


ALIAS = "live"
"""The alias every `AutoPublishAlias` function gets in template.yaml; the local stack has no versions, so
the alias's ARN names the function itself (a qualifier is ignored when it is invoked)."""


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short tags (`!Ref`, `!GetAtt`, ...) into their long form."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template into plain Python structures."""
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a template")
    return loaded


@dataclass
class Resolver:
    """Resolves `Ref`, `Fn::GetAtt`, `Fn::Sub` and friends against what the local stack created.

    `refs` maps a logical id to what `Ref` returns; `attributes` maps (logical id, attribute) to what
    `Fn::GetAtt` returns. Both are filled in as resources are provisioned.
    """

    template: Mapping[str, Any]
    pseudo: dict[str, str]
    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, spec in self.template.get("Parameters", {}).items():
            self.parameters.setdefault(name, str(spec.get("Default", "")))

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`, recursively."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handler = self._intrinsics().get(key)
            if handler is not None:
                return handler(argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda a: str(a[0]).join(str(self.resolve(i)) for i in a[1]),
            "Fn::Equals": lambda a: self.resolve(a[0]) == self.resolve(a[1]),
            "Fn::Not": lambda a: not self.resolve(a[0]),
            "Fn::If": lambda a: self.resolve(a[1] if self.condition(a[0]) else a[2]),
            "Condition": self.condition,
        }

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name.endswith(".Alias"):  # SAM's `AutoPublishAlias`: the function's ARN, qualified by the alias
            return f"{self._get_att([name.removesuffix('.Alias'), 'Arn'])}:{ALIAS}"
        raise KeyError(f"Ref to {name}, which the local stack has not provisioned (yet)")

    def _get_att(self, argument: list[str]) -> str:
        logical_id, attribute = argument[0], argument[1]
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise KeyError(f"GetAtt {logical_id}.{attribute} is not known to the local stack") from None

    def _sub(self, argument: str | list[Any]) -> str:
        if isinstance(argument, list):
            text, local_vars = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, local_vars = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local_vars:
                return str(local_vars[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_att([logical_id, attribute])
            return self._ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def resources_of_type(template: Mapping[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    """The template's resources of the given types, by logical id, in template order."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") in types
    }
