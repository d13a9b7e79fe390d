"""Read a CloudFormation template written in YAML, short-form intrinsics included.

CloudFormation's YAML differs from plain YAML in three ways that matter here:
- `!Ref X`, `!GetAtt A.B`, `!Sub ...` and the other short forms are the intrinsics' long forms
  (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, `{"Fn::Sub": ...}`); an unknown tag is an error;
- `AWSTemplateFormatVersion: 2010-09-09` is a string, never a date;
- a key written twice is an error (YAML would silently keep the last one and lose a resource).
Errors are yaml.MarkedYAMLError, which carries the line.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# Short forms whose long form has no `Fn::` prefix.
BARE = frozenset({"Ref", "Condition"})
FUNCTIONS = frozenset({
    "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
    "Transform", "And", "Equals", "If", "Not", "Or", "Length", "ToJsonString", "ForEach",
    # Rules-section condition functions
    "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
})


class CfnYamlLoader(yaml.SafeLoader):
    """SafeLoader without timestamps, with CloudFormation's short forms, refusing duplicate keys."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            self.flatten_mapping(node)
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: SafeLoader's own check reports it
                if first is not None:
                    raise ConstructorError(
                        "while reading a mapping", node.start_mark,
                        f"key {key!r} appears twice (first on line {first.start_mark.line + 1})", key_node.start_mark)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _short_form(loader: CfnYamlLoader, suffix: str, node: Node) -> dict[str, Any]:
    if suffix in BARE:
        name = suffix
    elif suffix in FUNCTIONS:
        name = f"Fn::{suffix}"
    else:
        raise ConstructorError(None, None, f"unknown intrinsic function tag !{suffix}", node.start_mark)
    if isinstance(node, ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":  # !GetAtt Resource.Attribute (the attribute may itself hold dots)
            resource, dot, attribute = str(value).partition(".")
            if not dot or not resource or not attribute:
                raise ConstructorError(None, None, f"!GetAtt {value!r}: expected Resource.Attribute", node.start_mark)
            value = [resource, attribute]
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnYamlLoader.add_multi_constructor("!", _short_form)


def load_yaml(text: str) -> Any:
    """The document in `text`; yaml.MarkedYAMLError (with the line) when it is malformed."""
    return yaml.load(text, Loader=CfnYamlLoader)  # noqa: S506 - a SafeLoader subclass
