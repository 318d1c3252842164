"""Cloud side: ingest workers that move gateway batches into InfluxDB."""
