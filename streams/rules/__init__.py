"""The pure rules: no Kafka, ClickHouse or network."""
