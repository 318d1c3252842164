"""ioc-telemetry shared core: the Reading type, the measurement dictionary, topics, payloads, config."""

__version__ = "0.1.0"
