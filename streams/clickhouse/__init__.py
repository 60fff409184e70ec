"""Everything that knows ClickHouse: migrations, row shapes, queries, the writer."""
