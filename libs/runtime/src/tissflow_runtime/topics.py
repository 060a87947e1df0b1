"""Creates tissflow's Kafka topics with explicit partition counts (idempotent).

`python -m tissflow_runtime.topics` is run by `make run` and by the test setup.
"""

from __future__ import annotations

import asyncio
import sys

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from tissflow_contracts import ALL_TOPICS

from tissflow_runtime.settings import ServiceSettings


async def ensure_topics(bootstrap: str) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="tissflow-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=1)
            for name, partitions in ALL_TOPICS.items()
            if name not in existing
        ]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


def main() -> int:
    bootstrap = ServiceSettings().kafka_bootstrap
    created = asyncio.run(ensure_topics(bootstrap))
    print(f"tópicos Kafka prontos em {bootstrap} (criados agora: {len(created)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
