"""Everything that knows Kafka: one connection configuration, clients, topics."""
