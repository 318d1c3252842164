"""The gateway agent: reads field devices, buffers readings, sends them to the cloud."""
