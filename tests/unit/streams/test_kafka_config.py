"""The broker settings reach kafka-python and aiokafka the same way."""

from __future__ import annotations

import ssl

from pydantic import SecretStr

from schemas.settings import Settings
from streams.kafka.config import aiokafka_options, client_options


def test_plaintext_gives_both_clients_the_same_servers_and_no_credentials() -> None:
    settings = Settings(bootstrap_servers="a:9092,b:9092")
    for options in (client_options(settings), aiokafka_options(settings)):
        assert options == {
            "bootstrap_servers": ["a:9092", "b:9092"],
            "security_protocol": "PLAINTEXT",
        }


def test_sasl_over_tls_reaches_aiokafka_with_a_tls_context() -> None:
    settings = Settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="motcua",
        sasl_password=SecretStr("s3cret"),
    )
    options = aiokafka_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("motcua", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert client_options(settings)["sasl_plain_password"] == "s3cret"
