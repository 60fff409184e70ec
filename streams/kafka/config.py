"""The one Kafka configuration (Settings' broker fields), translated for each
client the project uses: kafka-python (publishers, log samples), faust
(the worker) and aiokafka (the backfill). Nothing else reads the broker settings."""

from __future__ import annotations

from typing import Any

from schemas.settings import Settings


def client_options(settings: Settings) -> dict[str, object]:
    """kafka-python connection options (the one place they are translated)."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password.get_secret_value(),
        }
    if settings.ssl_cafile:
        options["ssl_cafile"] = str(settings.ssl_cafile)
    return options


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """aiokafka connection options: kafka-python's, with TLS as a context."""
    options: dict[str, Any] = dict(client_options(settings))
    cafile = options.pop("ssl_cafile", None)
    if "SSL" in settings.security_protocol:
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context(cafile=cafile)
    return options


def broker_credentials(settings: Settings) -> Any:
    """faust credentials for SASL/TLS, or None for a plaintext local broker."""
    if settings.security_protocol == "PLAINTEXT":
        return None
    import ssl

    import faust

    context = (
        ssl.create_default_context(cafile=settings.ssl_cafile)
        if "SSL" in (settings.security_protocol)
        else None
    )
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            mechanism=settings.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context)


def faust_options(settings: Settings) -> dict[str, Any]:
    """faust's broker options (the rest of the worker's app options are its own)."""
    return {
        "broker": [f"kafka://{b}" for b in settings.bootstrap_servers.split(",")],
        "broker_credentials": broker_credentials(settings),
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication_factor,
        "broker_session_timeout": settings.broker_session_timeout,
        "broker_heartbeat_interval": settings.broker_heartbeat_interval,
        "broker_rebalance_timeout": settings.broker_rebalance_timeout,
    }
