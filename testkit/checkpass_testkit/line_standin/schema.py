"""Validation against LINE's published OpenAPI specs that follows their `discriminator` mappings.

The specs describe polymorphic objects (messages, actions, webhook events, ...) as a base schema with a
`discriminator` (`type` → sub-schema) and sub-schemas that `allOf` the base. Generic validators ignore
the discriminator, so `{"type": "text"}` without `text` passes as a bare `Message`. Here each spec is
rewritten into a JSON Schema (2020-12) where every discriminated base `X` becomes:

    X       = allOf[X__base, type ∈ mapping, if type == k then $ref mapping[k] ...]
    X__base = X without the discriminator

and a sub-schema's `allOf: [$ref X]` points at `X__base` (else X → Sub → X would never end).
OpenAPI 3.0's `nullable: true` becomes a `"null"` type. The rewritten schema is then checked by
`jsonschema`, so every other keyword keeps its standard meaning.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPECS_DIR = Path(__file__).parent / "specs"
_COMPONENT_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Problem:
    """One refusal, in the shape of LINE's 400 `details` items."""

    property: str
    message: str


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    body_schema: str | None  # component name of the JSON body, if the operation takes one
    body_required: bool
    content_types: tuple[str, ...]


def _rewrite(node: Any, discriminated: set[str], *, in_all_of: bool = False) -> Any:
    """Copy `node` with component refs pointed at $defs (bases inside allOf) and nullable spelled out."""
    if isinstance(node, list):
        return [_rewrite(item, discriminated, in_all_of=in_all_of) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENT_REF):
            name = value[len(_COMPONENT_REF) :]
            out["$ref"] = (
                f"#/$defs/{name}__base" if in_all_of and name in discriminated else f"#/$defs/{name}"
            )
        elif key == "allOf":
            out[key] = [_rewrite(item, discriminated, in_all_of=True) for item in value]
        elif key in ("discriminator", "externalDocs", "example", "description"):
            continue
        elif key == "properties" and isinstance(value, dict):
            out[key] = {prop: _rewrite(sub, discriminated) for prop, sub in value.items()}
        else:
            out[key] = _rewrite(value, discriminated)
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    # A `format` that is a regular expression (one spec does this) is really a pattern.
    if isinstance(out.get("format"), str) and out["format"].startswith("^"):
        out["pattern"] = out.pop("format")
    return out


class SpecSchemas:
    """The component schemas and operations of one OpenAPI file, ready to validate against."""

    def __init__(self, spec: dict[str, Any]) -> None:
        components = spec.get("components", {}).get("schemas", {})
        discriminated = {name for name, schema in components.items() if "discriminator" in schema}
        defs: dict[str, Any] = {}
        for name, schema in components.items():
            rewritten = _rewrite(schema, discriminated)
            if name not in discriminated:
                defs[name] = rewritten
                continue
            disc = schema["discriminator"]
            prop = disc["propertyName"]
            mapping = {key: ref[len(_COMPONENT_REF) :] for key, ref in disc.get("mapping", {}).items()}
            defs[f"{name}__base"] = rewritten
            defs[name] = {
                "allOf": [
                    {"$ref": f"#/$defs/{name}__base"},
                    {"required": [prop], "properties": {prop: {"enum": sorted(mapping)}}},
                    *(
                        {
                            "if": {"properties": {prop: {"const": key}}, "required": [prop]},
                            "then": {"$ref": f"#/$defs/{target}"},
                        }
                        for key, target in sorted(mapping.items())
                    ),
                ]
            }
        self._root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs}
        self.names = frozenset(components)
        self.operations = _operations(spec)

    def validator(self, name: str) -> jsonschema.Draft202012Validator:
        if name not in self.names:
            raise KeyError(name)
        schema = dict(self._root, **{"$ref": f"#/$defs/{name}"})
        return jsonschema.Draft202012Validator(schema)

    def problems(self, name: str, instance: Any) -> list[Problem]:
        """Every problem with `instance` as schema `name`, deepest first, in LINE's property notation."""
        found: list[Problem] = []
        for error in _leaf_errors(self.validator(name).iter_errors(instance)):
            found.append(Problem(_property_path(error.absolute_path), _message(error)))
        unique = list(dict.fromkeys(found))
        return sorted(unique, key=lambda p: p.property)

    def operation(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method and op.pattern.fullmatch(path):
                return op
        return None


def _leaf_errors(errors: Any) -> list[jsonschema.ValidationError]:
    """The errors that say what is wrong, not the allOf/if wrappers around them."""
    out: list[jsonschema.ValidationError] = []
    for error in errors:
        if error.context:
            out.extend(_leaf_errors(error.context))
        else:
            out.append(error)
    return out


def _property_path(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: jsonschema.ValidationError) -> str:
    # The words LINE uses for the common cases; never the offending value (it may be personal data).
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"May not be empty ({missing[0]})" if missing else "May not be empty"
    if error.validator in ("maxLength", "maxItems"):
        return f"Size must be between 0 and {error.validator_value}"
    if error.validator in ("minLength", "minItems"):
        return f"Size must be at least {error.validator_value}"
    if error.validator == "enum":
        return "Invalid value"
    if error.validator == "type":
        return f"Must be of type {error.validator_value}"
    return f"Invalid value ({error.validator})"


def _operations(spec: dict[str, Any]) -> tuple[Operation, ...]:
    ops: list[Operation] = []
    for template, item in spec.get("paths", {}).items():
        pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            body = op.get("requestBody", {})
            content = body.get("content", {})
            schema_name = None
            json_schema = content.get("application/json", {}).get("schema", {})
            ref = json_schema.get("$ref", "")
            if ref.startswith(_COMPONENT_REF):
                schema_name = ref[len(_COMPONENT_REF) :]
            ops.append(
                Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op.get("operationId", ""),
                    pattern=pattern,
                    body_schema=schema_name,
                    body_required=bool(body.get("required")),
                    content_types=tuple(content),
                )
            )
    # Literal paths before templated ones: /v2/bot/richmenu/list must not match /v2/bot/richmenu/{id}.
    ops.sort(key=lambda o: (o.template.count("{"), -len(o.template)))
    return tuple(ops)


@cache
def load(name: str) -> SpecSchemas:
    """`messaging-api` or `webhook`: the vendored spec, parsed once."""
    with (SPECS_DIR / f"{name}.yml").open(encoding="utf-8") as handle:
        return SpecSchemas(yaml.safe_load(handle))


def check(spec: str, schema: str, instance: Any) -> list[Problem]:
    """Problems with `instance` as `schema` of `spec` (empty when valid). Deep-copies nothing it keeps."""
    return load(spec).problems(schema, copy.deepcopy(instance))
