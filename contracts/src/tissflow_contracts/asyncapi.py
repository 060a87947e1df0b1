"""Generates the AsyncAPI 3.0 document of tissflow's events from the contract models.

Run `uv run python -m tissflow_contracts.asyncapi` to rewrite `contracts/asyncapi.yaml`;
a test fails when the committed document and the code drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from tissflow_contracts.envelope import Envelope
from tissflow_contracts.events import EVENTS
from tissflow_contracts.topics import PARTITIONS, dlq

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"


def _message_name(type_name: str) -> str:
    return "".join(part.capitalize() for part in type_name.replace("_", ".").split("."))


def build_document() -> dict[str, Any]:
    envelope_schema = Envelope.model_json_schema()
    envelope_schema.pop("title", None)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": envelope_schema}
    for spec in EVENTS:
        name = _message_name(spec.type)
        payload_schema = spec.model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in payload_schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[spec.model.__name__] = payload_schema
        messages[name] = {
            "name": spec.type,
            "title": spec.model.__name__,
            "summary": spec.summary,
            "contentType": "application/json",
            "headers": {"type": "object"},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": spec.type},
                            "version": {"const": spec.version},
                            "producer": {"const": spec.producer},
                            "payload": {"$ref": f"#/components/schemas/{spec.model.__name__}"},
                        },
                    },
                ]
            },
        }
        channel_id = spec.topic.replace(".", "_")
        channels[channel_id] = {
            "address": str(spec.topic),
            "description": f"{spec.summary} Partitions: {PARTITIONS[spec.topic]}; keyed by "
            "the entity id. Consumers: " + ", ".join(spec.consumers) + ".",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        channels[channel_id + "_dlq"] = {
            "address": dlq(spec.topic),
            "description": f"Dead letters of {spec.topic}: the original message plus the "
            "error, attempts and consumer group in the headers.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{spec.producer} publishes {spec.type}",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
        for consumer in spec.consumers:
            operations[f"{consumer}_consumes_{channel_id}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{consumer} consumes {spec.type}",
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "tissflow events",
            "version": "1.0.0",
            "description": "Events between tissflow's services and the operator's core systems.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make run"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not DOCUMENT_PATH.exists() or DOCUMENT_PATH.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT_PATH} está desatualizado: rode `make asyncapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT_PATH.write_text(text, encoding="utf-8")
    print(f"escrito {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
