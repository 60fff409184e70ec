"""Topics the pipeline needs, created with the configured partition count.

A broker that auto-creates topics would use its own default partition
count, so the worker creates the topics first and then takes the events
topic's real partition count (and says so when it differs from the setting).
"""

from __future__ import annotations

import contextlib
import logging

from schemas.settings import Settings
from streams.kafka.config import client_options

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings) -> int:
    """Create missing topics; returns the events topic's partition count."""
    from kafka import KafkaAdminClient, KafkaConsumer
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(**client_options(settings))
    try:
        existing = set(admin.list_topics())
        wanted = [settings.events_topic, settings.dead_letter_topic, settings.alerts_topic]
        missing = [
            NewTopic(name, settings.topic_partitions, settings.topic_replication_factor)
            for name in wanted
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was quicker
                admin.create_topics(missing)
    finally:
        admin.close()
    consumer = KafkaConsumer(**client_options(settings))
    try:
        partitions = consumer.partitions_for_topic(settings.events_topic) or set()
    finally:
        consumer.close()
    if len(partitions) != settings.topic_partitions:
        log.warning(
            "events topic has %d partitions, not the configured %d; using %d",
            len(partitions),
            settings.topic_partitions,
            len(partitions),
        )
    return len(partitions)
